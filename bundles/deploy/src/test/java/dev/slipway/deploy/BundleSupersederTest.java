package dev.slipway.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

import dev.slipway.deploy.FakeFramework.FakeBundle;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BundleSupersederTest {

    private static final String NAME = "dev.slipway.platform.linux";

    @TempDir
    Path tmp;

    private Path deployDir;
    private String original;
    private final FakeFramework framework = new FakeFramework();
    private final CountingExecutor worker = new CountingExecutor();
    private BundleSuperseder superseder;

    @BeforeEach
    void setUp() throws Exception {
        deployDir = Files.createDirectories(tmp.resolve("deploy"));
        framework.properties.put("felix.fileinstall.dir", deployDir.toString());
        original = location(tmp.resolve("dist/bundles/" + NAME + "-1.0.0.jar"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (superseder != null) {
            superseder.deactivate();
        }
        worker.shutdownNow();
    }

    private void activate() {
        superseder = new BundleSuperseder(framework.context(), worker);
    }

    /** A location as fileinstall writes it: {@code file:/...}, with a slash after an existing directory. */
    private static String location(Path path) {
        return path.toFile().toURI().toString();
    }

    /** fileinstall installing a jar that appeared in deploy/ */
    private FakeBundle drop(String symbolicName, String version) throws InterruptedException {
        return drop(symbolicName, version, false);
    }

    private FakeBundle drop(String symbolicName, String version, boolean fragment) throws InterruptedException {
        FakeBundle bundle = framework.install(location(deployDir.resolve(symbolicName + "-" + version + ".jar")),
                symbolicName, version, fragment);
        worker.awaitIdle();
        return bundle;
    }

    /** fileinstall uninstalling the bundle of a jar deleted from deploy/ */
    private void delete(FakeBundle bundle) throws Exception {
        bundle.uninstall();
        worker.awaitIdle();
    }

    // --- replacing ---

    @Test
    void aNewerVersionDroppedIntoDeployReplacesTheInstalledOneAndStarts() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        activate();
        FakeBundle replacement = drop(NAME, "1.1.0");
        assertEquals(Bundle.UNINSTALLED, old.state);
        assertEquals(List.of("1.1.0"), framework.versions(NAME));
        assertEquals(Bundle.ACTIVE, replacement.state);
        assertEquals(List.of(List.of(NAME + " 1.0.0")), framework.refreshes, "the old revision's dependents are refreshed");
    }

    @Test
    void anOlderOrTheSameVersionInDeployReplacesNothing() throws Exception {
        framework.preinstalled(original, NAME, "2.0.0");
        activate();
        FakeBundle older = drop(NAME, "1.0.0");
        assertEquals(List.of("1.0.0", "2.0.0"), framework.versions(NAME));
        assertEquals(0, older.starts, "fileinstall, not hot swap, decides whether it starts");
        drop("dev.slipway.same", "1.0.0");
        assertEquals(List.of(), framework.refreshes);
    }

    @Test
    void onlyBundlesOfTheSameSymbolicNameAreReplaced() throws Exception {
        FakeBundle other = framework.preinstalled(original, "dev.slipway.helper.hosts", "1.0.0");
        activate();
        drop(NAME, "9.0.0");
        assertEquals(Bundle.ACTIVE, other.state);
        assertEquals(List.of(), framework.refreshes);
    }

    @Test
    void aNewerVersionInstalledFromOutsideDeployIsNotAHotSwap() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        activate();
        framework.install(location(tmp.resolve("elsewhere/" + NAME + "-2.0.0.jar")), NAME, "2.0.0", false);
        framework.install(location(tmp.resolve("deploy-old/" + NAME + "-3.0.0.jar")), NAME, "3.0.0", false);
        worker.awaitIdle();
        assertEquals(Bundle.ACTIVE, old.state);
        assertEquals(List.of("1.0.0", "2.0.0", "3.0.0"), framework.versions(NAME));
    }

    @Test
    void withoutADeployDirectoryNothingIsEverReplaced() throws Exception {
        framework.properties.remove("felix.fileinstall.dir");
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        activate();
        drop(NAME, "2.0.0");
        assertEquals(Bundle.ACTIVE, old.state);
    }

    @Test
    void theDeployPrefixEndsWithASlashEvenBeforeTheDirectoryExists() {
        String prefix = BundleSuperseder.deployLocationPrefix(tmp.resolve("not-yet").toString());
        assertEquals(location(tmp.resolve("not-yet")) + "/", prefix);
        assertEquals(location(deployDir), BundleSuperseder.deployLocationPrefix(deployDir.toString()));
        assertNull(BundleSuperseder.deployLocationPrefix(null));
    }

    @Test
    void aJarAlreadyInDeployWhenTheRuntimeStartsReplacesTheOlderVersionThen() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        FakeBundle deployed = framework.preinstalled(location(deployDir.resolve(NAME + "-1.2.0.jar")), NAME, "1.2.0");
        activate();
        worker.awaitIdle();
        assertEquals(Bundle.UNINSTALLED, old.state);
        assertEquals(Bundle.ACTIVE, deployed.state);
        delete(deployed);
        assertEquals(List.of("1.0.0"), framework.versions(NAME), "removal restores the version it replaced at start");
    }

    @Test
    void aReplacementFragmentIsNotStarted() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        activate();
        FakeBundle fragment = drop(NAME, "1.1.0", true);
        assertEquals(Bundle.UNINSTALLED, old.state);
        assertEquals(0, fragment.starts);
    }

    @Test
    void aBundleWithoutASymbolicNameIsIgnored() throws Exception {
        framework.preinstalled(original, NAME, "1.0.0");
        activate();
        FakeBundle legacy = drop(null, "0.0.0");
        assertEquals(List.of("1.0.0"), framework.versions(NAME));
        assertEquals(0, legacy.starts);
        delete(legacy);
        assertEquals(List.of(), framework.installedLocations.stream().filter(l -> l.equals(original)).toList());
    }

    // --- restoring ---

    @Test
    void removingTheReplacementFromDeployRestoresTheVersionItReplaced() throws Exception {
        framework.preinstalled(original, NAME, "1.0.0");
        activate();
        FakeBundle replacement = drop(NAME, "1.1.0");
        delete(replacement);
        assertEquals(List.of("1.0.0"), framework.versions(NAME));
        FakeBundle restored = framework.bundle(NAME, "1.0.0");
        assertEquals(original, restored.location);
        assertEquals(Bundle.ACTIVE, restored.state);
        assertNull(framework.refreshes.get(framework.refreshes.size() - 1), "the restore refreshes whatever is pending");
    }

    @Test
    void aSecondHotSwapReplacesTheFirstAndRemovalStillRestoresTheOriginal() throws Exception {
        framework.preinstalled(original, NAME, "1.0.0");
        activate();
        drop(NAME, "1.1.0");
        FakeBundle second = drop(NAME, "1.2.0");
        assertEquals(List.of("1.2.0"), framework.versions(NAME), "1.1.0 went without restoring anything: 1.2.0 is there");
        assertEquals(List.of(), framework.installedLocations.stream().filter(l -> l.equals(original)).toList());
        delete(second);
        assertEquals(List.of("1.0.0"), framework.versions(NAME), "the original comes back, not the deployed 1.1.0");
        assertEquals(original, framework.bundle(NAME, "1.0.0").location);
    }

    @Test
    void removingADeployedBundleThatReplacedNothingRestoresNothing() throws Exception {
        activate();
        FakeBundle alone = drop("dev.slipway.extra", "1.0.0");
        delete(alone);
        assertEquals(List.of(), framework.versions("dev.slipway.extra"));
        assertEquals(List.of(), framework.refreshes);
    }

    @Test
    void aRestoreThatFailsIsReportedAndLaterSwapsStillWork() throws Exception {
        framework.failingInstalls.add(original);
        framework.preinstalled(original, NAME, "1.0.0");
        activate();
        delete(drop(NAME, "1.1.0"));
        assertEquals(List.of(), framework.versions(NAME));

        FakeBundle hosts = framework.preinstalled(location(tmp.resolve("dist/bundles/hosts.jar")), "dev.slipway.helper.hosts", "1.0.0");
        drop("dev.slipway.helper.hosts", "1.0.1");
        assertEquals(Bundle.UNINSTALLED, hosts.state);
    }

    @Test
    void anUninstallThatFailsLeavesTheReplacementStoppedAndLaterSwapsStillWork() throws Exception {
        FakeBundle stuck = framework.preinstalled(original, NAME, "1.0.0");
        stuck.failUninstall = new BundleException("cannot uninstall");
        activate();
        FakeBundle replacement = drop(NAME, "1.1.0");
        assertEquals(Bundle.ACTIVE, stuck.state);
        assertEquals(0, replacement.starts);

        FakeBundle hosts = framework.preinstalled(location(tmp.resolve("dist/bundles/hosts.jar")), "dev.slipway.helper.hosts", "1.0.0");
        drop("dev.slipway.helper.hosts", "1.0.1");
        assertEquals(Bundle.UNINSTALLED, hosts.state);
    }

    // --- order, life cycle ---

    @Test
    void manyVersionsDroppedInARowLeaveTheNewestAloneAndRemovalRestoresTheOriginal() throws Exception {
        framework.preinstalled(original, NAME, "1.0.0");
        activate();
        FakeBundle newest = null;
        for (int minor = 1; minor <= 8; minor++) { // no waiting in between: the swaps queue up behind each other
            newest = framework.install(location(deployDir.resolve(NAME + "-1." + minor + ".0.jar")), NAME, "1." + minor + ".0", false);
        }
        worker.awaitIdle();
        assertEquals(List.of("1.8.0"), framework.versions(NAME));
        assertEquals(Bundle.ACTIVE, newest.state);
        delete(newest);
        assertEquals(List.of("1.0.0"), framework.versions(NAME));
        assertEquals(1, framework.installedLocations.stream().filter(l -> l.equals(original)).count());
    }

    @Test
    void afterDeactivationNothingIsReplaced() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        activate();
        superseder.deactivate();
        superseder = null;
        assertEquals(List.of(), framework.listeners);
        assertTrue(worker.isShutdown());
        framework.install(location(deployDir.resolve(NAME + "-2.0.0.jar")), NAME, "2.0.0", false);
        assertEquals(Bundle.ACTIVE, old.state);
    }

    /** A single worker thread that knows when every task given to it, including tasks those tasks gave it, has run. */
    private static final class CountingExecutor extends ThreadPoolExecutor {
        private final Object lock = new Object();
        private int pending;

        CountingExecutor() {
            super(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> new Thread(r, "test-deploy-worker"));
        }

        @Override
        public void execute(Runnable task) {
            synchronized (lock) {
                pending++;
            }
            try {
                super.execute(task);
            } catch (RuntimeException e) {
                done();
                throw e;
            }
        }

        @Override
        protected void afterExecute(Runnable task, Throwable failure) {
            done();
        }

        private void done() {
            synchronized (lock) {
                pending--;
                lock.notifyAll();
            }
        }

        void awaitIdle() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            synchronized (lock) {
                while (pending > 0) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) {
                        throw new AssertionError(pending + " hot-swap tasks still pending after 10 s");
                    }
                    lock.wait(left);
                }
            }
        }
    }
}

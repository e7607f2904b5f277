package dev.slipway.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
    private final StateParking parking = new StateParking();

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
        superseder = new BundleSuperseder(framework.context(), parking, worker);
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
        assertEquals(0, older.starts, "an older version does not run next to the newer one");
        FakeBundle addOn = drop("dev.slipway.same", "1.0.0");
        assertEquals(Bundle.ACTIVE, addOn.state, "a deployed bundle that replaces nothing starts");
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
    void anUninstallThatFailsLeavesTheOldVersionStoppedAndLaterSwapsStillWork() throws Exception {
        FakeBundle stuck = framework.preinstalled(original, NAME, "1.0.0");
        stuck.failUninstall = new BundleException("cannot uninstall");
        activate();
        FakeBundle replacement = drop(NAME, "1.1.0");
        assertEquals(Bundle.RESOLVED, stuck.state, "stopped for the new version, which runs");
        assertEquals(Bundle.ACTIVE, replacement.state);

        FakeBundle hosts = framework.preinstalled(location(tmp.resolve("dist/bundles/hosts.jar")), "dev.slipway.helper.hosts", "1.0.0");
        drop("dev.slipway.helper.hosts", "1.0.1");
        assertEquals(Bundle.UNINSTALLED, hosts.state);
    }

    // --- state hand-over and rollback ---

    /** A component of {@code bundle} that parks {@code items} when an update stops it, and counts its resets. */
    private java.util.concurrent.atomic.AtomicInteger parksState(FakeBundle bundle, int format) {
        java.util.concurrent.atomic.AtomicInteger resets = new java.util.concurrent.atomic.AtomicInteger();
        bundle.deactivations.add(() -> {
            if (parking.restartExpected(NAME)) {
                parking.deposit(new dev.slipway.api.handover.HandoverState(NAME, format,
                        java.util.Map.of("listeners", List.of("a", "b")), List.of("2 listeners"), resets::incrementAndGet));
            } else {
                resets.incrementAndGet();
            }
        });
        return resets;
    }

    /** A component of {@code bundle} that claims the state when it activates and does {@code verdict} with it. */
    private List<Object> claimsState(FakeBundle bundle, java.util.function.Consumer<dev.slipway.api.handover.HandoverClaim> verdict) {
        List<Object> taken = new java.util.concurrent.CopyOnWriteArrayList<>();
        bundle.activations.add(() -> {
            dev.slipway.api.handover.HandoverClaim claim = parking.claim(NAME);
            if (claim != null) {
                taken.add(claim.state().items().get("listeners"));
                verdict.accept(claim);
            }
        });
        return taken;
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> lastUpdate() {
        return (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) superseder.status()).get("updates")).get(NAME);
    }

    private FakeBundle dropWith(String version, java.util.function.Consumer<FakeBundle> components) throws InterruptedException {
        String location = location(deployDir.resolve(NAME + "-" + version + ".jar"));
        framework.jars.put(location, new FakeFramework.Jar(NAME, version, false));
        framework.beforeInstallEvent = components;
        try {
            FakeBundle bundle = framework.install(location, NAME, version, false);
            worker.awaitIdle();
            return bundle;
        } finally {
            framework.beforeInstallEvent = null;
        }
    }

    @Test
    void theNewVersionTakesTheStateTheOldOneParked() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        activate();
        List<Object>[] taken = new List[1];
        FakeBundle replacement = dropWith("1.1.0", b -> taken[0] = claimsState(b, c -> c.accept(List.of("2 listeners"), List.of())));
        assertEquals(Bundle.ACTIVE, replacement.state);
        assertEquals(Bundle.UNINSTALLED, old.state);
        assertEquals(List.of(List.of("a", "b")), taken[0]);
        assertEquals(0, resets.get(), "nothing was reset");
        assertEquals("handed over", lastUpdate().get("state"));
        assertEquals("1.0.0", lastUpdate().get("from"));
        assertEquals("1.1.0", lastUpdate().get("to"));
        assertEquals(List.of("2 listeners"), lastUpdate().get("handedOver"));
        assertTrue(!parking.restartExpected(NAME), "the restart is over");
    }

    @Test
    void aStateTheNewVersionRefusesIsResetAndTheUpdateGoesOn() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        activate();
        FakeBundle replacement = dropWith("1.1.0", b -> claimsState(b, c -> c.refuse("format 1 is not 2")));
        assertEquals(Bundle.ACTIVE, replacement.state);
        assertEquals(Bundle.UNINSTALLED, old.state);
        assertEquals(1, resets.get(), "the refused state was reset once");
        assertEquals("refused: format 1 is not 2", lastUpdate().get("state"));
        assertEquals(List.of("2 listeners"), lastUpdate().get("reset"));
    }

    @Test
    void aNewVersionThatReleasesTheStateIsRolledBackAndTheOldOneTakesItBack() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        List<Object> takenBack = claimsState(old, c -> c.accept(List.of("2 listeners"), List.of()));
        activate();
        FakeBundle replacement = dropWith("1.1.0", b -> claimsState(b, c -> c.release("activation failed")));
        assertEquals(Bundle.UNINSTALLED, replacement.state);
        assertEquals(Bundle.ACTIVE, old.state);
        assertEquals(List.of(List.of("a", "b")), takenBack, "the old version has its own state again");
        assertEquals(0, resets.get());
        assertEquals("rolled back: activation failed", lastUpdate().get("result"));
        assertTrue(Files.exists(tmp.resolve("deploy-failed/" + NAME + "-1.1.0.jar")) || !Files.exists(deployDir.resolve(NAME + "-1.1.0.jar")),
                "the failed jar left deploy/");
    }

    /** The parked listeners as the new version holds them after it went on with them. */
    private static final List<String> MOVED_ON = List.of("a", "b", "c");

    /** A state of this bundle as a version holds it now. */
    private dev.slipway.api.handover.HandoverState stateNow(List<String> listeners, java.util.concurrent.atomic.AtomicInteger resets) {
        return new dev.slipway.api.handover.HandoverState(NAME, 1, Map.of("listeners", listeners), List.of(listeners.size() + " listeners"),
                resets::incrementAndGet);
    }

    @Test
    void aNewVersionThatTookTheStateAndThenFailsGivesItBackAndTheOldOneGoesOnWithItAsItIsNow() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        List<Object> takenBack = claimsState(old, c -> c.accept(List.of("3 listeners"), List.of()));
        activate();
        // its activation throws after the claim: it deposits what it holds then, as an update's stop would
        FakeBundle replacement = dropWith("1.1.0", b -> claimsState(b, c -> {
            c.accept(List.of("2 listeners"), List.of());
            parking.deposit(stateNow(MOVED_ON, resets));
        }));
        assertEquals(Bundle.UNINSTALLED, replacement.state);
        assertEquals(Bundle.ACTIVE, old.state);
        assertEquals(List.of(MOVED_ON), takenBack, "the old version goes on from where the new one left off");
        assertEquals(0, resets.get(), "nothing was reset");
        assertTrue(String.valueOf(lastUpdate().get("result")).startsWith("rolled back: " + NAME + " was given back by the version that took it"),
                lastUpdate().toString());
        assertEquals("handed over", lastUpdate().get("state"));
        assertEquals(List.of("3 listeners"), lastUpdate().get("handedOver"));
        assertTrue(!parking.restartExpected(NAME), "the restart is over");
    }

    /** A component runtime that reports one component of {@code failing} as failed to activate. */
    private static org.osgi.service.component.runtime.ServiceComponentRuntime failedActivation(FakeBundle[] failing) {
        return dev.slipway.testing.Fake.of(org.osgi.service.component.runtime.ServiceComponentRuntime.class, new Object() {
            java.util.Collection<org.osgi.service.component.runtime.dto.ComponentDescriptionDTO> getComponentDescriptionDTOs(Bundle... bundles) {
                var description = new org.osgi.service.component.runtime.dto.ComponentDescriptionDTO();
                description.name = "dev.slipway.Failing";
                return failing[0] != null && bundles.length == 1 && bundles[0].getVersion().equals(failing[0].bundle().getVersion())
                        ? List.of(description) : List.of();
            }

            java.util.Collection<org.osgi.service.component.runtime.dto.ComponentConfigurationDTO> getComponentConfigurationDTOs(
                    org.osgi.service.component.runtime.dto.ComponentDescriptionDTO description) {
                var configuration = new org.osgi.service.component.runtime.dto.ComponentConfigurationDTO();
                configuration.state = org.osgi.service.component.runtime.dto.ComponentConfigurationDTO.FAILED_ACTIVATION;
                configuration.failure = "java.lang.IllegalStateException: deliberately\n\tat somewhere";
                return List.of(configuration);
            }
        });
    }

    @Test
    void aNewVersionWithAComponentThatFailedIsRolledBackAndGivesBackWhatItTookWhenItStops() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        List<Object> takenBack = claimsState(old, c -> c.accept(List.of("3 listeners"), List.of()));
        activate();
        FakeBundle[] failing = new FakeBundle[1];
        superseder.components = failedActivation(failing);
        FakeBundle replacement = dropWith("1.1.0", b -> {
            failing[0] = b;
            claimsState(b, c -> c.accept(List.of("2 listeners"), List.of()));
            b.deactivations.add(() -> {
                if (parking.restartExpected(NAME)) {
                    parking.deposit(stateNow(MOVED_ON, resets));
                }
            });
        });
        assertEquals(Bundle.UNINSTALLED, replacement.state);
        assertEquals(Bundle.ACTIVE, old.state);
        assertEquals(List.of(MOVED_ON), takenBack, "the state as the failed version left it");
        assertEquals(0, resets.get());
        assertEquals("rolled back: the new version did not activate: dev.slipway.Failing (java.lang.IllegalStateException: deliberately)",
                lastUpdate().get("result"));
        assertEquals("handed over", lastUpdate().get("state"));
    }

    @Test
    void aNewVersionThatTookTheStateAndWentWithoutGivingItBackLosesItWithAReset() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        List<Object> takenBack = claimsState(old, c -> c.accept(List.of("2 listeners"), List.of()));
        activate();
        FakeBundle[] failing = new FakeBundle[1];
        superseder.components = failedActivation(failing);
        FakeBundle replacement = dropWith("1.1.0", b -> {
            failing[0] = b;
            claimsState(b, c -> c.accept(List.of("2 listeners"), List.of()));
        });
        assertEquals(Bundle.UNINSTALLED, replacement.state);
        assertEquals(Bundle.ACTIVE, old.state);
        assertEquals(List.of(), takenBack, "nothing stale is handed to the old version");
        assertEquals(1, resets.get(), "the lost state was reset once");
        assertEquals(List.of("2 listeners (taken by the failed version and not given back)"), lastUpdate().get("reset"));
    }

    @Test
    void aNewVersionThatSucceedsKeepsWhatItTookAndItsLaterRestartIsNoFailure() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        activate();
        FakeBundle replacement = dropWith("1.1.0", b -> claimsState(b, c -> c.accept(List.of("2 listeners"), List.of())));
        assertEquals(Bundle.ACTIVE, replacement.state);
        assertEquals("updated", lastUpdate().get("result"));
        assertEquals(0, resets.get(), "an accepted state is not reset when the update ends");
        parking.expect(NAME);
        parking.deposit(stateNow(MOVED_ON, resets));
        assertNull(parking.givenBack(NAME), "a deposit after the update is a new restart, not a version giving back");
        parking.finish(NAME);
        assertEquals(1, resets.get(), "nobody took the new deposit");
    }

    @Test
    void aNewVersionThatDoesNotStartIsRolledBack() throws Exception {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        activate();
        FakeBundle replacement = dropWith("1.1.0", b -> b.failStart = new BundleException("missing requirement"));
        assertEquals(Bundle.UNINSTALLED, replacement.state);
        assertEquals(Bundle.ACTIVE, old.state);
        assertTrue(String.valueOf(lastUpdate().get("result")).startsWith("rolled back: the new version did not start"));
    }

    @Test
    void aBundleStoppedWithoutAnUpdateExpectsNoRestart() {
        FakeBundle old = framework.preinstalled(original, NAME, "1.0.0");
        java.util.concurrent.atomic.AtomicInteger resets = parksState(old, 1);
        activate();
        old.stop(0);
        assertEquals(1, resets.get(), "it reset its state itself");
    }

    @Test
    void aJarInDeployThatIsNoBundleIsReportedInStatus() throws Exception {
        Files.writeString(deployDir.resolve("broken.jar"), "no zip");
        activate();
        @SuppressWarnings("unchecked")
        List<Map<String, String>> skipped = (List<Map<String, String>>) ((Map<String, Object>) superseder.status()).get("skipped");
        assertEquals(1, skipped.size());
        assertEquals("broken.jar", skipped.get(0).get("file"));
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

package dev.slipway.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.BundleListener;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.StatusContributor;

/**
 * Makes fileinstall's deploy directory a hot-swap path. fileinstall installs a jar dropped into
 * {@code deploy/} as a new bundle; when that bundle is a newer version of one already installed,
 * this component uninstalls the older one and refreshes, so its dependents restart wired to the
 * new revision and its services are replaced. Removing the jar from {@code deploy/} again restores
 * the version it replaced.
 *
 * <p>fileinstall installs deployed jars without starting them; this component starts them. An
 * update hands the old version's state to the new one through {@link StateParking}: right
 * before the new version starts, the old one is stopped with a restart expected (it parks its
 * state instead of closing it); the new one claims the state when it activates. When the new
 * version fails to start, or releases the state, or does not take it in time, the update is rolled
 * back: the new version is uninstalled, its jar moved to {@code deploy-failed/}, and the old version
 * started again takes its state back. So does a new version that took the state and then failed:
 * one that gives the state back (it deposits it again), or one with a component whose activation
 * failed; it stops during the rollback with the restart still expected, so it gives back what it
 * holds then, and the old version goes on from there. Dependents are refreshed only when the new version does not
 * share the old one's API packages (they are then wired anew and restart).
 */
@Component(service = StatusContributor.class, property = StatusContributor.KEY + "=deploy")
public final class BundleSuperseder implements BundleListener, StatusContributor {

    /** How long an incoming version may take to claim and accept its predecessor's state. */
    static final long CLAIM_TIMEOUT_MS = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(BundleSuperseder.class);

    private final BundleContext context;
    private final String deployLocationPrefix;
    private final ExecutorService worker;
    /** Replaced bundles by symbolic name: the location to restore when the replacement is removed. */
    private final Map<String, String> replacedLocations = new ConcurrentHashMap<>();
    private final StateParking parking;
    /** Tells which components of a new version failed to activate; absent in tests without one. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    volatile ServiceComponentRuntime components;
    /** The last update of each bundle, for {@code slipway status}. */
    private final Map<String, Map<String, Object>> lastUpdates = new ConcurrentHashMap<>();
    /** Jars in deploy/ that are not bundles, already logged: file name to modification time. */
    private final Map<String, Long> reportedBroken = new ConcurrentHashMap<>();

    @Activate
    public BundleSuperseder(BundleContext context, @Reference StateParking parking) {
        this(context, parking, Executors.newSingleThreadExecutor(r -> new Thread(r, "slipway-deploy")));
    }

    /** @param worker runs the swaps one at a time, off the framework's event thread */
    BundleSuperseder(BundleContext context, StateParking parking, ExecutorService worker) {
        this.context = context;
        this.parking = parking;
        this.worker = worker;
        this.deployLocationPrefix = deployLocationPrefix(context.getProperty("felix.fileinstall.dir"));
        context.addBundleListener(this);
        skippedJars();
        for (Bundle bundle : context.getBundles()) {
            if (isDeployed(bundle)) {
                worker.execute(() -> supersedeOlderVersions(bundle));
            }
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        context.removeBundleListener(this);
        worker.shutdown();
        worker.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Override
    public void bundleChanged(BundleEvent event) {
        Bundle bundle = event.getBundle();
        if (!isDeployed(bundle)) {
            return;
        }
        switch (event.getType()) {
            case BundleEvent.INSTALLED, BundleEvent.UPDATED -> worker.execute(() -> supersedeOlderVersions(bundle));
            case BundleEvent.UNINSTALLED -> worker.execute(() -> restoreReplaced(bundle.getSymbolicName()));
            default -> { }
        }
    }

    /**
     * The location prefix of the bundles fileinstall installs from {@code dir}. It ends with a slash
     * whether or not the directory exists yet, so a sibling such as {@code deploy-old/} is not taken
     * for it.
     */
    static String deployLocationPrefix(String dir) {
        if (dir == null) {
            return null;
        }
        String uri = new File(dir).getAbsoluteFile().toURI().toString();
        return uri.endsWith("/") ? uri : uri + "/";
    }

    private boolean isDeployed(Bundle bundle) {
        String location = bundle.getLocation();
        if (deployLocationPrefix == null || location == null) {
            return false;
        }
        return location.startsWith(deployLocationPrefix);
    }

    /**
     * Stops the active older versions of {@code replacement} before it starts. When the replacement
     * has not started yet, they stop with a restart expected, so they park their state for it.
     */
    private void stopOlder(Bundle replacement, List<Bundle> older) {
        List<Bundle> olderActive = older.stream().filter(b -> b.getState() == Bundle.ACTIVE).toList();
        if (olderActive.isEmpty()) {
            return;
        }
        if (replacement.getState() != Bundle.ACTIVE) {
            parking.expect(replacement.getSymbolicName());
        }
        for (Bundle old : olderActive) {
            try {
                old.stop(Bundle.STOP_TRANSIENT);
            } catch (BundleException | IllegalStateException e) {
                LOG.error("hot swap: stopping {} {} for {} failed", old.getSymbolicName(), old.getVersion(), replacement.getVersion(), e);
            }
        }
    }

    /** Resolves the new version before the old one stops: one that cannot resolve never interrupts the old one. */
    private boolean resolves(Bundle replacement) {
        FrameworkWiring wiring = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(FrameworkWiring.class);
        return wiring == null || wiring.resolveBundles(List.of(replacement)) || replacement.getState() != Bundle.INSTALLED;
    }

    private List<Bundle> older(Bundle replacement) {
        return Arrays.stream(context.getBundles())
                .filter(b -> b.getBundleId() != replacement.getBundleId())
                .filter(b -> replacement.getSymbolicName().equals(b.getSymbolicName()))
                .filter(b -> b.getVersion().compareTo(replacement.getVersion()) < 0)
                .toList();
    }

    private void supersedeOlderVersions(Bundle replacement) {
        if (replacement.getState() == Bundle.UNINSTALLED || replacement.getSymbolicName() == null) {
            return;
        }
        String name = replacement.getSymbolicName();
        List<Bundle> older = older(replacement);
        if (older.isEmpty()) {
            startUnlessSuperseded(replacement);
            return;
        }
        Version from = older.stream().map(Bundle::getVersion).max(Version::compareTo).orElseThrow();
        long started = System.nanoTime();
        try {
            if (!resolves(replacement)) {
                rollBack(replacement, older, from, "the new version does not resolve", started);
                return;
            }
            stopOlder(replacement, older);
            try {
                startIfNotFragment(replacement);
            } catch (BundleException | IllegalStateException e) {
                rollBack(replacement, older, from, "the new version did not start: " + e.getMessage(), started);
                return;
            }
            StateParking.Outcome outcome = parking.awaitOutcome(name, CLAIM_TIMEOUT_MS);
            if (outcome.failed()) {
                rollBack(replacement, older, from, outcome.reason(), started);
                return;
            }
            String failedComponents = failedComponents(replacement);
            if (failedComponents != null) {
                rollBack(replacement, older, from, "the new version did not activate: " + failedComponents, started);
                return;
            }
            parking.done(name);
            boolean refreshNeeded = dependentsNeedRefresh(replacement, older);
            for (Bundle old : older) {
                if (!isDeployed(old)) {
                    replacedLocations.putIfAbsent(old.getSymbolicName(), old.getLocation());
                }
                LOG.info("hot swap: {} {} replaces {}", name, replacement.getVersion(), old.getVersion());
                old.uninstall();
            }
            record(name, from, replacement.getVersion(), "updated", outcome, started);
            if (refreshNeeded) {
                refreshWithHandover(older);
            }
        } catch (BundleException | IllegalStateException e) {
            LOG.error("hot swap of {} to {} failed", name, replacement.getVersion(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            parking.finish(name);
        }
    }

    /**
     * Refreshes {@code bundles}; every bundle the refresh restarts is told a restart is expected, so
     * those that keep state hand it over to themselves.
     */
    private void refreshWithHandover(List<Bundle> bundles) throws InterruptedException {
        FrameworkWiring wiring = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(FrameworkWiring.class);
        List<String> restarted = new ArrayList<>();
        if (wiring != null) {
            for (Bundle b : wiring.getDependencyClosure(bundles)) {
                if (b.getSymbolicName() != null && b.getState() == Bundle.ACTIVE) {
                    restarted.add(b.getSymbolicName());
                    parking.expect(b.getSymbolicName());
                }
            }
        }
        try {
            refresh(bundles);
            for (String name : restarted) {
                StateParking.Outcome outcome = parking.awaitOutcome(name, CLAIM_TIMEOUT_MS);
                if (outcome.kind() != StateParking.Outcome.Kind.NOTHING_PARKED) {
                    LOG.info("hot swap: {} restarted by the refresh: {} {}", name, outcome.kind(), outcome.handedOver());
                }
            }
        } finally {
            restarted.forEach(parking::finish);
        }
    }

    /**
     * The new version failed: it goes (its jar to {@code deploy-failed/}, so fileinstall does not
     * install it again), and the old version starts again and takes its parked state back. The new
     * version stops while the restart is still expected, so whatever state it took and still holds
     * it deposits again (as it is now), and that is what the old version takes.
     */
    private void rollBack(Bundle replacement, List<Bundle> older, Version from, String reason, long started) throws InterruptedException {
        String name = replacement.getSymbolicName();
        LOG.error("hot swap: {} {} failed ({}); rolling back to {}", name, replacement.getVersion(), reason, from);
        Version to = replacement.getVersion();
        List<String> lost = List.of();
        try {
            if (replacement.getState() != Bundle.UNINSTALLED) {
                moveAside(replacement);
                replacement.uninstall();
            }
        } catch (BundleException | IllegalStateException e) {
            LOG.error("hot swap: uninstalling the failed {} {} failed", name, to, e);
        } finally {
            lost = parking.reopen(name);
        }
        try {
            for (Bundle old : older) {
                if (old.getState() != Bundle.UNINSTALLED && old.getVersion().equals(from)) {
                    old.start(Bundle.START_TRANSIENT);
                }
            }
        } catch (BundleException | IllegalStateException e) {
            LOG.error("hot swap: rolling {} back to {} failed", name, from, e);
        }
        StateParking.Outcome outcome = parking.awaitOutcome(name, CLAIM_TIMEOUT_MS);
        if (!lost.isEmpty()) {
            List<String> reset = new ArrayList<>(outcome.reset());
            reset.addAll(lost.stream().map(l -> l + " (taken by the failed version and not given back)").toList());
            outcome = new StateParking.Outcome(outcome.kind(), outcome.reason(), outcome.handedOver(), reset);
        }
        record(name, from, to, "rolled back: " + reason, outcome, started);
    }

    /**
     * The components of {@code bundle} whose activation failed, with why, or {@code null} when none
     * did (or no component runtime is there to ask). An update whose new version has one is rolled back.
     */
    private String failedComponents(Bundle bundle) {
        ServiceComponentRuntime runtime = components;
        if (runtime == null) {
            return null;
        }
        List<String> failed = new ArrayList<>();
        for (ComponentDescriptionDTO description : runtime.getComponentDescriptionDTOs(bundle)) {
            for (ComponentConfigurationDTO configuration : runtime.getComponentConfigurationDTOs(description)) {
                if (configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    failed.add(description.name + " (" + firstLine(configuration.failure) + ")");
                }
            }
        }
        return failed.isEmpty() ? null : String.join(", ", failed);
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "no reason given";
        }
        int end = text.indexOf('\n');
        return (end < 0 ? text : text.substring(0, end)).strip();
    }

    private void moveAside(Bundle replacement) {
        if (!isDeployed(replacement)) {
            return;
        }
        try {
            Path jar = Path.of(java.net.URI.create(replacement.getLocation()));
            Path failed = jar.getParent().resolveSibling(jar.getParent().getFileName() + "-failed");
            Files.createDirectories(failed);
            Files.move(jar, failed.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            LOG.warn("hot swap: {} moved to {}", jar.getFileName(), failed);
        } catch (IOException | IllegalArgumentException e) {
            LOG.error("could not move the failed update {} out of deploy/", replacement.getLocation(), e);
        }
    }

    /**
     * Whether bundles wired to the old version must be refreshed: not when the new version gets every
     * package the old one exported from the same provider as the old one's other importers (a bundle
     * that imports its own API package resolves against the old copy, which stays until a refresh).
     */
    private boolean dependentsNeedRefresh(Bundle replacement, List<Bundle> older) {
        BundleWiring newWiring = replacement.adapt(BundleWiring.class);
        if (newWiring == null) {
            return true;
        }
        for (Bundle old : older) {
            BundleWiring oldWiring = old.adapt(BundleWiring.class);
            if (oldWiring == null) {
                return true;
            }
            for (BundleWire wire : oldWiring.getProvidedWires(PackageNamespace.PACKAGE_NAMESPACE)) {
                if (wire.getRequirerWiring().getBundle().getBundleId() == old.getBundleId()) {
                    continue;
                }
                String pkg = (String) wire.getCapability().getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE);
                boolean shared = newWiring.getRequiredWires(PackageNamespace.PACKAGE_NAMESPACE).stream()
                        .anyMatch(w -> pkg.equals(w.getCapability().getAttributes().get(PackageNamespace.PACKAGE_NAMESPACE))
                                && w.getProviderWiring().getBundle().getBundleId() == old.getBundleId());
                if (!shared) {
                    return true;
                }
            }
        }
        return false;
    }

    private void record(String name, Version from, Version to, String result, StateParking.Outcome outcome, long started) {
        Map<String, Object> update = new LinkedHashMap<>();
        update.put("at", Instant.now().toString());
        update.put("from", from.toString());
        update.put("to", to.toString());
        update.put("result", result);
        update.put("tookMs", (System.nanoTime() - started) / 1_000_000);
        update.put("state", switch (outcome.kind()) {
            case NOTHING_PARKED -> "none";
            case ACCEPTED -> "handed over";
            case REFUSED -> "refused: " + outcome.reason();
            case RELEASED -> "released: " + outcome.reason();
            case NOT_CLAIMED -> "not claimed";
        });
        update.put("handedOver", outcome.handedOver());
        update.put("reset", outcome.reset());
        lastUpdates.put(name, update);
    }

    @Override
    public Object status() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("updates", new LinkedHashMap<>(lastUpdates));
        status.put("skipped", skippedJars());
        return status;
    }

    /** Jars in deploy/ that are no bundle: named once in the log, and in every status. */
    private List<Map<String, String>> skippedJars() {
        List<Map<String, String>> skipped = new ArrayList<>();
        if (deployLocationPrefix == null) {
            return skipped;
        }
        Path dir = Path.of(java.net.URI.create(deployLocationPrefix));
        List<Path> jars;
        try (var files = Files.list(dir)) {
            jars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            return skipped;
        }
        for (Path jar : jars) {
            String reason = notABundle(jar);
            if (reason == null) {
                continue;
            }
            skipped.add(Map.of("file", jar.getFileName().toString(), "reason", reason));
            long modified = jar.toFile().lastModified();
            if (!Long.valueOf(modified).equals(reportedBroken.put(jar.getFileName().toString(), modified))) {
                LOG.error("deploy/{} is not a bundle ({}): skipped", jar.getFileName(), reason);
            }
        }
        return skipped;
    }

    /** Why {@code jar} is no bundle, or {@code null} when it is one. */
    static String notABundle(Path jar) {
        try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
            java.util.jar.Manifest manifest = file.getManifest();
            if (manifest == null) {
                return "no manifest";
            }
            if (manifest.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME) == null) {
                return "no Bundle-SymbolicName";
            }
            return null;
        } catch (IOException e) {
            return "not a jar: " + e.getMessage();
        }
    }

    private void restoreReplaced(String symbolicName) {
        if (symbolicName == null || !replacedLocations.containsKey(symbolicName)) {
            return;
        }
        boolean stillPresent = Arrays.stream(context.getBundles())
                .anyMatch(b -> symbolicName.equals(b.getSymbolicName()) && b.getState() != Bundle.UNINSTALLED);
        if (stillPresent) {
            return;
        }
        String location = replacedLocations.remove(symbolicName);
        try {
            Bundle restored = context.installBundle(location);
            LOG.info("hot swap: {} removed from deploy/, restored {}", symbolicName, restored.getVersion());
            refresh(List.of());
            startIfNotFragment(restored);
        } catch (BundleException e) {
            LOG.error("could not restore {} from {}", symbolicName, location, e);
        }
    }

    /** A deployed bundle that replaces nothing starts, unless a newer version of it is installed. */
    private void startUnlessSuperseded(Bundle bundle) {
        boolean newerInstalled = Arrays.stream(context.getBundles())
                .anyMatch(b -> bundle.getSymbolicName().equals(b.getSymbolicName()) && b.getVersion().compareTo(bundle.getVersion()) > 0);
        if (newerInstalled || bundle.getState() == Bundle.ACTIVE) {
            return;
        }
        try {
            startIfNotFragment(bundle);
        } catch (BundleException | IllegalStateException e) {
            LOG.error("deployed bundle {} {} did not start", bundle.getSymbolicName(), bundle.getVersion(), e);
        }
    }

    private void startIfNotFragment(Bundle bundle) throws BundleException {
        if (bundle.getHeaders("").get(Constants.FRAGMENT_HOST) == null && bundle.getState() != Bundle.UNINSTALLED) {
            bundle.start();
        }
    }

    private void refresh(List<Bundle> bundles) {
        FrameworkWiring wiring = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(FrameworkWiring.class);
        CountDownLatch done = new CountDownLatch(1);
        wiring.refreshBundles(bundles.isEmpty() ? null : bundles, event -> done.countDown());
        try {
            if (!done.await(30, TimeUnit.SECONDS)) {
                LOG.warn("refresh did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

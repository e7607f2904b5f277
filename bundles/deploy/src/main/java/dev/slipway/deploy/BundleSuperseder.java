package dev.slipway.deploy;

import java.io.File;
import java.util.Arrays;
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
import org.osgi.framework.BundleListener;
import org.osgi.framework.Constants;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes fileinstall's deploy directory a hot-swap path. fileinstall installs a jar dropped into
 * {@code deploy/} as a new bundle; when that bundle is a newer version of one already installed,
 * this component uninstalls the older one and refreshes, so its dependents restart wired to the
 * new revision and its services are replaced. Removing the jar from {@code deploy/} again restores
 * the version it replaced.
 */
@Component(service = {})
public final class BundleSuperseder implements BundleListener {

    private static final Logger LOG = LoggerFactory.getLogger(BundleSuperseder.class);

    private final BundleContext context;
    private final String deployLocationPrefix;
    private final ExecutorService worker;
    /** Replaced bundles by symbolic name: the location to restore when the replacement is removed. */
    private final Map<String, String> replacedLocations = new ConcurrentHashMap<>();

    @Activate
    public BundleSuperseder(BundleContext context) {
        this(context, Executors.newSingleThreadExecutor(r -> new Thread(r, "slipway-deploy")));
    }

    /** @param worker runs the swaps one at a time, off the framework's event thread */
    BundleSuperseder(BundleContext context, ExecutorService worker) {
        this.context = context;
        this.worker = worker;
        this.deployLocationPrefix = deployLocationPrefix(context.getProperty("felix.fileinstall.dir"));
        context.addBundleListener(this);
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

    private void supersedeOlderVersions(Bundle replacement) {
        if (replacement.getState() == Bundle.UNINSTALLED || replacement.getSymbolicName() == null) {
            return;
        }
        List<Bundle> older = Arrays.stream(context.getBundles())
                .filter(b -> b.getBundleId() != replacement.getBundleId())
                .filter(b -> replacement.getSymbolicName().equals(b.getSymbolicName()))
                .filter(b -> b.getVersion().compareTo(replacement.getVersion()) < 0)
                .toList();
        if (older.isEmpty()) {
            return;
        }
        try {
            for (Bundle old : older) {
                if (!isDeployed(old)) {
                    replacedLocations.putIfAbsent(old.getSymbolicName(), old.getLocation());
                }
                LOG.info("hot swap: {} {} replaces {}", replacement.getSymbolicName(), replacement.getVersion(), old.getVersion());
                old.uninstall();
            }
            refresh(older);
            startIfNotFragment(replacement);
        } catch (BundleException | IllegalStateException e) {
            LOG.error("hot swap of {} to {} failed", replacement.getSymbolicName(), replacement.getVersion(), e);
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

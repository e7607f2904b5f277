package dev.slipway.deploy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.BundleListener;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.FrameworkWiring;

import dev.slipway.testing.Fake;
import dev.slipway.testing.FakeBundleBasics;

/**
 * The part of a framework hot swap touches: installed bundles with locations, install by location,
 * uninstall, start, refresh, and bundle events delivered to listeners as they happen. Thread-safe:
 * the swaps run on the superseder's own thread while a test installs more.
 */
final class FakeFramework {

    /** What a location holds: the bundle that installing it gives. */
    record Jar(String symbolicName, String version, boolean fragment) {}

    final Map<String, String> properties = new ConcurrentHashMap<>();
    final Map<String, Jar> jars = new ConcurrentHashMap<>();
    final List<FakeBundle> installed = new CopyOnWriteArrayList<>();
    final List<BundleListener> listeners = new CopyOnWriteArrayList<>();
    /** Every refresh: the bundles passed, or null for "whatever is pending". */
    final List<List<String>> refreshes = new CopyOnWriteArrayList<>();
    final List<String> installedLocations = new CopyOnWriteArrayList<>();
    /** Locations whose install fails, as when the jar was deleted meanwhile. */
    final List<String> failingInstalls = new CopyOnWriteArrayList<>();
    /** Gives a bundle being installed its components before anyone hears of it. */
    volatile java.util.function.Consumer<FakeBundle> beforeInstallEvent;
    private final AtomicLong nextId = new AtomicLong(1);
    private final FakeBundle system = new FakeBundle(0, Constants.SYSTEM_BUNDLE_LOCATION, "org.apache.felix.framework", "7.0.5", false);

    FakeFramework() {
        system.state = Bundle.ACTIVE;
    }

    BundleContext context() {
        return Fake.of(BundleContext.class, this);
    }

    // --- what a test does, as the launcher or fileinstall would ---

    /** Installs and starts a bundle from {@code location} without telling anyone, as before activation. */
    FakeBundle preinstalled(String location, String symbolicName, String version) {
        jars.put(location, new Jar(symbolicName, version, false));
        FakeBundle bundle = new FakeBundle(nextId.getAndIncrement(), location, symbolicName, version, false);
        bundle.state = Bundle.ACTIVE;
        installed.add(bundle);
        return bundle;
    }

    /** Installs a bundle and sends INSTALLED, as fileinstall does for a jar that appeared. */
    FakeBundle install(String location, String symbolicName, String version, boolean fragment) {
        jars.put(location, new Jar(symbolicName, version, fragment));
        try {
            return (FakeBundle) installBundleFake(location);
        } catch (BundleException e) {
            throw new AssertionError(e);
        }
    }

    FakeBundle bundle(String symbolicName, String version) {
        return installed.stream().filter(b -> b.symbolicName != null && b.symbolicName.equals(symbolicName)
                && b.version.equals(Version.parseVersion(version))).findFirst().orElse(null);
    }

    /** The installed versions of a symbolic name, oldest first. */
    List<String> versions(String symbolicName) {
        List<String> versions = new ArrayList<>();
        installed.stream().filter(b -> symbolicName.equals(b.symbolicName)).map(b -> b.version).sorted()
                .forEach(v -> versions.add(v.toString()));
        return versions;
    }

    private void fire(int type, FakeBundle bundle) {
        BundleEvent event = new BundleEvent(type, bundle.bundle());
        for (BundleListener listener : listeners) {
            listener.bundleChanged(event);
        }
    }

    private Object installBundleFake(String location) throws BundleException {
        if (failingInstalls.contains(location)) {
            throw new BundleException("cannot install " + location + ": no such file");
        }
        Jar jar = jars.get(location);
        if (jar == null) {
            throw new BundleException("nothing at " + location);
        }
        FakeBundle bundle = new FakeBundle(nextId.getAndIncrement(), location, jar.symbolicName(), jar.version(), jar.fragment());
        installed.add(bundle);
        installedLocations.add(location);
        java.util.function.Consumer<FakeBundle> setUp = beforeInstallEvent;
        if (setUp != null) {
            setUp.accept(bundle);
        }
        fire(BundleEvent.INSTALLED, bundle);
        return bundle;
    }

    // --- BundleContext ---

    String getProperty(String key) {
        return properties.get(key);
    }

    Bundle[] getBundles() {
        List<Bundle> all = new ArrayList<>();
        all.add(system.bundle());
        installed.forEach(b -> all.add(b.bundle()));
        return all.toArray(Bundle[]::new);
    }

    Bundle getBundle(String location) {
        if (Constants.SYSTEM_BUNDLE_LOCATION.equals(location)) {
            return system.bundle();
        }
        return installed.stream().filter(b -> b.location.equals(location)).map(FakeBundle::bundle).findFirst().orElse(null);
    }

    Bundle installBundle(String location) throws BundleException {
        return ((FakeBundle) installBundleFake(location)).bundle();
    }

    void addBundleListener(BundleListener listener) {
        listeners.add(listener);
    }

    void removeBundleListener(BundleListener listener) {
        listeners.remove(listener);
    }

    /** A bundle: its identity, location, state and what happened to it. */
    final class FakeBundle extends FakeBundleBasics {
        final String location;
        volatile int starts;
        volatile BundleException failUninstall;
        private final Bundle proxy;

        FakeBundle(long id, String location, String symbolicName, String version, boolean fragment) {
            super(id, symbolicName, version, Bundle.INSTALLED);
            this.location = location;
            if (fragment) {
                headers.put(Constants.FRAGMENT_HOST, "some.host");
            }
            this.proxy = Fake.of(Bundle.class, this);
        }

        Bundle bundle() {
            return proxy;
        }

        String getLocation() {
            return location;
        }

        /**
         * Stops an active bundle, uninstalls and sends UNINSTALLED, as the framework does (and as
         * fileinstall asks when the jar is deleted).
         */
        void uninstall() throws BundleException {
            if (failUninstall != null) {
                throw failUninstall;
            }
            if (state == Bundle.UNINSTALLED) {
                throw new IllegalStateException(this + " is already uninstalled");
            }
            stop(0);
            state = Bundle.UNINSTALLED;
            installed.remove(this);
            fire(BundleEvent.UNINSTALLED, this);
        }

        volatile BundleException failStart;

        /** Starts as the framework does: STARTING (synchronous listeners run on this thread), then ACTIVE. */
        void start() throws BundleException {
            if (state == Bundle.UNINSTALLED) {
                throw new IllegalStateException(this + " is uninstalled");
            }
            if (state == Bundle.ACTIVE) {
                return;
            }
            if (failStart != null) {
                throw failStart;
            }
            starts++;
            state = Bundle.STARTING;
            fire(BundleEvent.STARTING, this);
            state = Bundle.ACTIVE;
            for (Runnable listener : activations) {
                listener.run();
            }
        }

        void start(int options) throws BundleException {
            start();
        }

        void stop(int options) {
            if (state == Bundle.ACTIVE) {
                state = Bundle.RESOLVED;
                for (Runnable listener : deactivations) {
                    listener.run();
                }
            }
        }

        /** What the bundle's components do when it starts or stops, e.g. claim or park a state. */
        final List<Runnable> activations = new CopyOnWriteArrayList<>();
        final List<Runnable> deactivations = new CopyOnWriteArrayList<>();

        @SuppressWarnings("unchecked")
        <A> A adapt(Class<A> type) {
            if (type == FrameworkWiring.class && id == 0) {
                return (A) Fake.of(FrameworkWiring.class, new Object() {
                    Collection<Bundle> getDependencyClosure(Collection<Bundle> bundles) {
                        return bundles;
                    }

                    boolean resolveBundles(Collection<Bundle> bundles) {
                        return true;
                    }

                    void refreshBundles(Collection<Bundle> bundles, FrameworkListener... done) {
                        refreshes.add(bundles == null ? null : bundles.stream().map(b -> b.getSymbolicName() + " " + b.getVersion()).toList());
                        for (FrameworkListener listener : done) {
                            listener.frameworkEvent(new FrameworkEvent(FrameworkEvent.PACKAGES_REFRESHED, system.bundle(), null));
                        }
                    }
                });
            }
            return null;
        }

        @Override
        public String toString() {
            return symbolicName + " " + version + " at " + location;
        }
    }
}

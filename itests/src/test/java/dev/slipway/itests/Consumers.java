package dev.slipway.itests;

import java.util.Collection;
import java.util.Map;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

import dev.slipway.api.control.StatusContributor;

/** Looks at the runtime through its consumers: the status section that a DS component bound to Platform reports. */
final class Consumers {

    private Consumers() {
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> platformStatus(BundleContext context) {
        try {
            Collection<ServiceReference<StatusContributor>> refs =
                    context.getServiceReferences(StatusContributor.class, "(" + StatusContributor.KEY + "=platform)");
            if (refs.isEmpty()) {
                return Map.of();
            }
            ServiceReference<StatusContributor> ref = refs.iterator().next();
            try {
                return (Map<String, Object>) context.getService(ref).status();
            } finally {
                context.ungetService(ref);
            }
        } catch (InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    static Map<String, Object> awaitPlatformStatusVersion(BundleContext context, String version, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        Map<String, Object> status = platformStatus(context);
        while (!version.equals(status.get("bundleVersion")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            status = platformStatus(context);
        }
        if (!version.equals(status.get("bundleVersion"))) {
            throw new AssertionError("the platform consumer still reports " + status + ", expected version " + version);
        }
        return status;
    }

    static <T> T await(Supplier<T> probe, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        T value = probe.get();
        while (value == null && System.nanoTime() < deadline) {
            Thread.sleep(50);
            value = probe.get();
        }
        if (value == null) {
            throw new AssertionError("nothing appeared within " + seconds + " s");
        }
        return value;
    }
}

package dev.slipway.helper.server;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.platform.Platform;

/**
 * The helper process's main component: serves the protected socket while the bundle is active.
 * It first checks the distribution it runs from ({@code slipway.dist}): a helper whose jars or
 * launcher someone other than root could change is not started, and the process ends.
 */
@Component(immediate = true, service = {})
public final class HelperComponent {

    private final Map<HelperOperationHandler, List<String>> handlers = new IdentityHashMap<>();
    private Helper helper;

    @Activate
    public HelperComponent(BundleContext context, @Reference HelperSettings settings, @Reference Platform platform,
            @Reference HelperServiceDefinitions definitions, @Reference AccountDirectory accounts) throws IOException {
        requireTrustedDistribution(context, definitions);
        Helper.Config config = Helper.Config.from(settings, platform.helperSocket(), definitions.auditLog(),
                context.getBundle().getVersion().toString());
        synchronized (handlers) {
            helper = new Helper(config, accounts, Clock.systemUTC());
            handlers.forEach((handler, ops) -> ops.forEach(op -> helper.register(op, handler)));
        }
        helper.start();
    }

    private static void requireTrustedDistribution(BundleContext context, HelperServiceDefinitions definitions) throws IOException {
        String dist = context.getProperty("slipway.dist");
        if (dist == null) {
            return; // not started by the launcher (tests that assemble the bundles themselves)
        }
        try {
            definitions.requireTrusted(Path.of(dist));
        } catch (IOException e) {
            System.err.println("slipway-helper: refusing to start: " + e.getMessage());
            Thread stop = new Thread(() -> {
                try {
                    context.getBundle(0).stop();
                } catch (org.osgi.framework.BundleException | IllegalStateException ignored) {
                    // already stopping
                }
            }, "slipway-helper-refused");
            stop.start();
            throw e;
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addHandler(HelperOperationHandler handler, Map<String, Object> properties) {
        List<String> ops = operations(properties.get(HelperOperationHandler.OPERATION));
        synchronized (handlers) {
            handlers.put(handler, ops);
            if (helper != null) {
                ops.forEach(op -> helper.register(op, handler));
            }
        }
    }

    void removeHandler(HelperOperationHandler handler) {
        synchronized (handlers) {
            List<String> ops = handlers.remove(handler);
            if (helper != null && ops != null) {
                ops.forEach(op -> helper.unregister(op, handler));
            }
        }
    }

    private static List<String> operations(Object value) {
        List<String> ops = new ArrayList<>();
        if (value instanceof String s) {
            ops.add(s);
        } else if (value instanceof String[] array) {
            ops.addAll(List.of(array));
        } else if (value instanceof Iterable<?> iterable) {
            iterable.forEach(o -> ops.add(String.valueOf(o)));
        }
        return ops;
    }

    @Deactivate
    void deactivate() throws IOException {
        helper.close();
    }

    /** The group and user mode, for the defaults shared with the install command. */
    static String group(HelperSettings settings) {
        return settings.get(HelperSettings.GROUP, InstallOptions.DEFAULT_GROUP);
    }

    static Optional<Path> path(HelperSettings settings, String key) {
        return settings.get(key).map(Path::of);
    }

    static Duration millis(HelperSettings settings, String key, long fallback) {
        return Duration.ofMillis(Long.parseLong(settings.get(key, Long.toString(fallback))));
    }
}

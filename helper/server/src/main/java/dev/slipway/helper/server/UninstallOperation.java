package dev.slipway.helper.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.LoggerFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.Ownership;
import dev.slipway.api.helper.SystemPlanRunner;
import dev.slipway.api.platform.Platform;

/**
 * {@code uninstall}: undoes the helper's changes (hosts block, system CLI links, docker.sock link)
 * through their own operations, then removes the helper service. The service removal runs after
 * the reply is sent, because its last step stops the helper. Root only: a member may not undo
 * what the others rely on.
 */
@Component(property = HelperOperationHandler.OPERATION + "=" + HelperSchema.UNINSTALL)
public final class UninstallOperation implements HelperOperationHandler {

    static final long REMOVAL_DELAY_MILLIS = 500;

    private final HelperSettings settings;
    private final Platform platform;
    private final HelperServiceDefinitions definitions;
    private final SystemPlanRunner plans;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policyOption = ReferencePolicyOption.GREEDY,
            target = "(" + HelperOperationHandler.OPERATION + "=" + HelperSchema.HOSTS_REMOVE + ")")
    volatile HelperOperationHandler hosts;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policyOption = ReferencePolicyOption.GREEDY,
            target = "(" + HelperOperationHandler.OPERATION + "=" + HelperSchema.SYMLINKS_REMOVE + ")")
    volatile HelperOperationHandler links;

    @Activate
    public UninstallOperation(@Reference HelperSettings settings, @Reference Platform platform,
            @Reference HelperServiceDefinitions definitions, @Reference SystemPlanRunner plans) {
        this.settings = settings;
        this.platform = platform;
        this.definitions = definitions;
        this.plans = plans;
    }

    @Override
    public Map<String, Object> handle(HelperCall call) throws HelperException {
        // it undoes what every member set up and removes the helper for all of them
        if (!Ownership.root(call.caller())) {
            throw new HelperException(HelperErrors.REFUSED, "only root may uninstall the helper; run it as root"
                    + " (sudo slipway helper uninstall)");
        }
        Map<String, Object> undone = new LinkedHashMap<>();
        undo(undone, hosts, call, HelperSchema.HOSTS_REMOVE, Map.of());
        undo(undone, links, call, HelperSchema.SYMLINKS_REMOVE, Map.of(HelperSchema.PARAM_LOCATION, HelperSchema.LOCATION_SYSTEM));
        undo(undone, links, call, HelperSchema.DOCKERSOCK_UNLINK, Map.of());
        InstallOptions options = new InstallOptions(InstallOptions.Mode.ALL_USERS, settings.get(HelperSettings.USER),
                settings.get(HelperSettings.GROUP, InstallOptions.DEFAULT_GROUP), InstallOptions.Engine.VM, false,
                settings.get(HelperSettings.INSTALL_DIR).map(Path::of).orElse(platform.systemInstallDir()), List.of());
        Thread removal = new Thread(() -> {
            try {
                Thread.sleep(REMOVAL_DELAY_MILLIS);
                plans.apply(definitions.uninstall(options));
            } catch (IOException e) {
                LoggerFactory.getLogger(UninstallOperation.class).error("removing the helper service failed: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "slipway-helper-uninstall");
        removal.setDaemon(false);
        removal.start();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("undone", undone);
        result.put("service", "removing");
        return result;
    }

    private static void undo(Map<String, Object> undone, HelperOperationHandler handler, HelperCall call, String op,
            Map<String, Object> params) {
        if (handler == null) {
            undone.put(op, "not served by this helper");
            return;
        }
        try {
            undone.put(op, handler.handle(new HelperCall(call.id(), op, params, call.caller(), call.connection())));
        } catch (HelperException e) {
            undone.put(op, Optional.ofNullable(e.getMessage()).orElse(HelperErrors.FAILED));
        }
    }
}

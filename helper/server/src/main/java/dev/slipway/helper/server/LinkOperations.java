package dev.slipway.helper.server;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.Ownership;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlanRunner;
import dev.slipway.api.platform.Platform;
import dev.slipway.links.CliLinks;
import dev.slipway.links.DockerSockLink;

/**
 * The helper's link operations. Every location comes from the install configuration: the system
 * bin dir, the install dir, the docker.sock path, and the user whose socket it points at (the
 * {@code --user} user, else the caller as the kernel reported it).
 */
@Component(property = {HelperOperationHandler.OPERATION + "=" + HelperSchema.SYMLINKS_INSTALL,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.SYMLINKS_REMOVE,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.DOCKERSOCK_LINK,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.DOCKERSOCK_UNLINK})
public final class LinkOperations implements HelperOperationHandler {

    private final CliLinks systemLinks;
    private final DockerSockLink dockerSock;
    private final Optional<String> onlyUser;
    private final AccountDirectory accounts;
    private final HelperServiceDefinitions definitions;
    private final SystemPlanRunner plans;
    private final Ownership ownership;

    @Activate
    public LinkOperations(@Reference HelperSettings settings, @Reference Platform platform,
            @Reference AccountDirectory accounts, @Reference HelperServiceDefinitions definitions,
            @Reference SystemPlanRunner plans) {
        this(new CliLinks(settings.get(HelperSettings.BIN_DIR).map(Path::of).orElse(platform.systemBinDir()),
                settings.get(HelperSettings.INSTALL_DIR).map(Path::of).orElse(platform.systemInstallDir()),
                CliLinks.tools(settings.get(HelperSettings.CLI_TOOLS, HelperSettings.DEFAULT_CLI_TOOLS)), System.getProperty("user.name")),
                new DockerSockLink(Path.of(settings.get(HelperSettings.DOCKER_SOCK, "/var/run/docker.sock")),
                        Path.of(settings.get(HelperSettings.USER_DOCKER_SOCK, HelperSettings.DEFAULT_USER_DOCKER_SOCK))),
                settings.get(HelperSettings.USER), accounts, definitions, plans);
    }

    LinkOperations(CliLinks systemLinks, DockerSockLink dockerSock, Optional<String> onlyUser, AccountDirectory accounts,
            HelperServiceDefinitions definitions, SystemPlanRunner plans) {
        this.systemLinks = systemLinks;
        this.dockerSock = dockerSock;
        this.onlyUser = onlyUser;
        this.accounts = accounts;
        this.definitions = definitions;
        this.plans = plans;
        this.ownership = new Ownership(onlyUser);
    }

    @Override
    public Map<String, Object> handle(HelperCall call) throws HelperException {
        try {
            switch (call.operation()) {
                case HelperSchema.SYMLINKS_INSTALL:
                    return Map.of("links", systemLinks.install());
                case HelperSchema.SYMLINKS_REMOVE:
                    return Map.of("links", systemLinks.remove());
                case HelperSchema.DOCKERSOCK_LINK:
                    return linkDockerSock(call);
                case HelperSchema.DOCKERSOCK_UNLINK:
                    return unlinkDockerSock(call);
                default:
                    throw new HelperException(HelperErrors.UNAVAILABLE, call.operation() + " is not a link operation");
            }
        } catch (CliLinks.ConflictException e) {
            throw new HelperException(HelperErrors.CONFLICT, e.getMessage());
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, e.getMessage());
        }
    }

    private Map<String, Object> linkDockerSock(HelperCall call) throws IOException, HelperException {
        requireMayChangeDockerSock(call, "replace it");
        String user = onlyUser.orElse(call.caller().user());
        Path home = accounts.homeDirectory(user).orElseThrow(
                () -> new HelperException(HelperErrors.FAILED, "user " + user + " has no home directory"));
        Path target = dockerSock.targetFor(home);
        String outcome = dockerSock.link(home);
        Optional<SystemPlan> bootRule = definitions.dockerSockBootLink(dockerSock.link(), target);
        if (bootRule.isPresent()) {
            plans.apply(bootRule.get());
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("link", outcome);
        result.put("target", target.toString());
        result.put("bootRule", bootRule.isPresent());
        return result;
    }

    /** A member's docker.sock link is theirs: another member may neither point it elsewhere nor remove it. */
    private void requireMayChangeDockerSock(HelperCall call, String action) throws IOException, HelperException {
        Optional<String> owner = dockerSock.owner();
        if (owner.isPresent()) {
            ownership.requireMayChange(call.caller(), "the docker.sock link", owner.get(), action);
        }
    }

    private Map<String, Object> unlinkDockerSock(HelperCall call) throws IOException, HelperException {
        requireMayChangeDockerSock(call, "remove it");
        String outcome = dockerSock.unlink();
        plans.apply(definitions.removeDockerSockBootLink());
        return Map.of("link", outcome);
    }
}

package dev.slipway.helper.hosts;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.HostsConventions;
import dev.slipway.api.platform.Platform;
import dev.slipway.helper.hosts.HostsContent.MalformedHostsException;

/** {@code hosts.ensure} and {@code hosts.remove}: Slipway's block in the hosts file named by the install configuration. */
@Component(property = {HelperOperationHandler.OPERATION + "=" + HelperSchema.HOSTS_ENSURE,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.HOSTS_REMOVE})
public final class HostsOperations implements HelperOperationHandler {

    static final String KUBERNETES = "kubernetes.docker.internal";
    static final String HOST = "host.docker.internal";
    static final String GATEWAY = "gateway.docker.internal";

    private final HostsFile file;
    private final String lineSeparator;
    private final boolean hostGatewayNames;
    private final Supplier<Optional<String>> localAddress;

    @Activate
    public HostsOperations(@Reference HelperSettings settings, @Reference Platform platform,
            @Reference HostsConventions conventions) {
        this(new HostsFile(settings.get(HelperSettings.HOSTS_FILE).map(Path::of).orElse(platform.hostsFile()),
                conventions.writeStrategy()), conventions.lineSeparator(),
                Boolean.parseBoolean(settings.get(HelperSettings.HOSTS_HOST_GATEWAY,
                        Boolean.toString(conventions.hostGatewayNamesByDefault()))),
                LocalAddress::find);
    }

    HostsOperations(HostsFile file, String lineSeparator, boolean hostGatewayNames, Supplier<Optional<String>> localAddress) {
        this.file = file;
        this.lineSeparator = lineSeparator;
        this.hostGatewayNames = hostGatewayNames;
        this.localAddress = localAddress;
    }

    @Override
    public Map<String, Object> handle(HelperCall call) throws HelperException {
        try {
            if (call.operation().equals(HelperSchema.HOSTS_ENSURE)) {
                return ensure();
            }
            if (call.operation().equals(HelperSchema.HOSTS_REMOVE)) {
                return Map.of("changed", file.update(HostsContent::withoutBlock));
            }
        } catch (MalformedHostsException e) {
            throw new HelperException(HelperErrors.CONFLICT, e.getMessage());
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, e.getMessage());
        }
        throw new HelperException(HelperErrors.UNAVAILABLE, call.operation() + " is not a hosts operation");
    }

    private Map<String, Object> ensure() throws IOException, MalformedHostsException, HelperException {
        List<String> written = new ArrayList<>();
        Optional<String> local = Optional.empty();
        if (hostGatewayNames) {
            local = localAddress.get();
            if (local.isEmpty()) {
                throw new HelperException(HelperErrors.FAILED, "no local IP address found for " + HOST + "; nothing was changed");
            }
        }
        Optional<String> hostAddress = local;
        boolean changed = file.update(current -> {
            List<HostsEntry> entries = entries(current, hostAddress);
            written.clear();
            entries.forEach(e -> written.add(e.line()));
            return current.withBlock(entries, lineSeparator);
        });
        return Map.of("changed", changed, "entries", List.copyOf(written));
    }

    static List<HostsEntry> entries(HostsContent current, Optional<String> hostAddress) throws MalformedHostsException {
        List<HostsEntry> entries = new ArrayList<>();
        if (!current.hasLocalhost()) {
            entries.add(HostsEntry.of("127.0.0.1", "localhost"));
        }
        entries.add(HostsEntry.of("127.0.0.1", KUBERNETES));
        hostAddress.ifPresent(ip -> {
            entries.add(HostsEntry.of(ip, HOST));
            entries.add(HostsEntry.of(ip, GATEWAY));
        });
        return entries;
    }
}

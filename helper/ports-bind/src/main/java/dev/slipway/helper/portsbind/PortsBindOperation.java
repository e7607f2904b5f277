package dev.slipway.helper.portsbind;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.platform.linux.natives.Errno;
import dev.slipway.platform.linux.natives.FileDescriptors;
import dev.slipway.platform.linux.natives.InetSockets;

/**
 * {@code ports.bind}: binds a port below 1024 for the caller and hands the bound socket over; the helper
 * keeps no copy and never sees the port's traffic.
 *
 * <p>The schema has already checked the shapes (tcp|udp, an address literal, 1–1023).
 * Here the address must be loopback, one of {@value HelperSettings#PORTS_BIND_ADDRESSES} from the install
 * configuration, or the all-addresses address with {@code allAddresses=true}; anything else is refused.
 *
 * <p>The descriptor travels on the connection the request came in on, and only there
 * ({@link dev.slipway.api.helper.CallerConnection}): one marker byte carries it as SCM_RIGHTS, before the
 * JSON reply. Nothing in the request names a connection, so no caller can have a socket land on another's.
 */
@Component(property = HelperOperationHandler.OPERATION + "=" + HelperSchema.PORTS_BIND)
public final class PortsBindOperation implements HelperOperationHandler {

    private final Set<InetAddress> configured;

    @Activate
    public PortsBindOperation(@Reference HelperSettings settings) throws UnknownHostException {
        this(settings.get(HelperSettings.PORTS_BIND_ADDRESSES).orElse(""));
    }

    PortsBindOperation(String configuredAddresses) throws UnknownHostException {
        Set<InetAddress> set = new LinkedHashSet<>();
        for (String a : configuredAddresses.split(",")) {
            String t = a.trim();
            if (!t.isEmpty()) {
                if (new HelperSchema.AddressLiteral().problem(t).isPresent()) {
                    throw new UnknownHostException(HelperSettings.PORTS_BIND_ADDRESSES + ": not an IP address literal: " + t);
                }
                set.add(InetAddress.getByName(t.indexOf(':') >= 0 ? "[" + t + "]" : t));
            }
        }
        this.configured = Set.copyOf(set);
    }

    @Override
    public Map<String, Object> handle(HelperCall call) throws HelperException {
        Map<String, Object> p = call.params();
        boolean tcp = "tcp".equals(p.get(HelperSchema.PARAM_PROTOCOL));
        String text = (String) p.get(HelperSchema.PARAM_ADDRESS);
        int port = Integer.parseInt((String) p.get(HelperSchema.PARAM_PORT));
        boolean allAddresses = "true".equals(p.get(HelperSchema.PARAM_ALL_ADDRESSES));
        InetAddress address = allowed(text, allAddresses);

        String what = (tcp ? "tcp " : "udp ") + literal(address) + ":" + port;
        int bound;
        try {
            bound = InetSockets.bind(tcp, address, port);
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot bind " + what + ": " + reason(e));
        }
        try {
            call.connection().sendDescriptor(bound);
        } catch (HelperException e) {
            throw new HelperException(e.code(), "cannot pass the socket of " + what + " to the caller: " + e.getMessage());
        } finally {
            FileDescriptors.closeQuietly(bound);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put(HelperSchema.PARAM_PROTOCOL, tcp ? "tcp" : "udp");
        result.put(HelperSchema.PARAM_ADDRESS, literal(address));
        result.put(HelperSchema.PARAM_PORT, port);
        return result;
    }

    InetAddress allowed(String text, boolean allAddresses) throws HelperException {
        InetAddress address;
        try {
            // brackets make Java treat any text with a colon as an IPv6 literal (an error, never a lookup)
            address = InetAddress.getByName(text.indexOf(':') >= 0 ? "[" + text + "]" : text);
        } catch (UnknownHostException e) {
            throw new HelperException(HelperErrors.INVALID, "not an IP address: " + text);
        }
        if (address.isAnyLocalAddress()) {
            if (!allAddresses) {
                throw new HelperException(HelperErrors.REFUSED,
                        "binding all addresses (" + text + ") needs allAddresses=true");
            }
            return address;
        }
        if (address.isLoopbackAddress() || configured.contains(address)) {
            return address;
        }
        throw new HelperException(HelperErrors.REFUSED, text + " is neither loopback nor an address in the helper's "
                + HelperSettings.PORTS_BIND_ADDRESSES + " setting");
    }

    private static String literal(InetAddress a) {
        return a.getHostAddress();
    }

    private static String reason(IOException e) {
        return switch (Errno.of(e)) {
            case Errno.EADDRINUSE -> "the port is in use";
            case Errno.EADDRNOTAVAIL -> "the address is not on this machine";
            case Errno.EACCES -> "permission denied";
            default -> e.getMessage();
        };
    }
}

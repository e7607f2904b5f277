package dev.slipway.networking.stack.component;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.ControlRoute;

/**
 * gvisor-tap-vsock's {@code GET /services/dhcp/leases}: a JSON object from leased address to MAC
 * ({@code {"192.168.65.3":"5a:94:ef:e4:0c:ee"}}), keys sorted and newline-terminated as Go's encoder writes a map.
 */
@Component(property = ControlRoute.PATH + "=/services/dhcp/leases")
public final class DhcpLeasesRoute implements ControlRoute {
    private final StackHost host;

    @Activate
    public DhcpLeasesRoute(@Reference StackHost host) {
        this.host = host;
    }

    @Override
    public Response handle(Request request) {
        Map<String, String> byAddress = new TreeMap<>();
        Object leases = host.stack().status().get("leases");
        if (leases instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> m) {
                    byAddress.put(String.valueOf(m.get("ip")), String.valueOf(m.get("mac")));
                }
            }
        }
        StringBuilder s = new StringBuilder("{");
        byAddress.forEach((ip, mac) -> {
            if (s.length() > 1) {
                s.append(',');
            }
            s.append('"').append(ip).append("\":\"").append(mac).append('"');
        });
        s.append("}\n");
        return Response.plainText(200, s.toString());
    }
}

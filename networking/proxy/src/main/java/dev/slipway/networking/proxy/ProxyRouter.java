package dev.slipway.networking.proxy;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;

import dev.slipway.networking.api.OutboundRouter;

/**
 * Takes the guest's connections to the transparent ports (and to the gateway's proxy port) for the
 * {@link Interceptor}, which the stack hands them to directly, and tells what each one is.
 * Destinations excluded by address (NO_PROXY IPs and CIDR blocks) stay direct without being
 * intercepted, unless a connection policy needs to see their names.
 */
final class ProxyRouter {
    enum Mode { HTTP, TLS, EXPLICIT }

    record Origin(int ip, int port, Mode mode) {}

    private final int gateway;
    private final int explicitPort;
    private final boolean[] httpPorts = new boolean[65536];
    private final boolean[] tlsPorts = new boolean[65536];
    private volatile Routing routing;

    ProxyRouter(int gateway, int explicitPort, int[] httpPorts, int[] tlsPorts, Routing routing) {
        this.gateway = gateway;
        this.explicitPort = explicitPort;
        for (int p : httpPorts) {
            this.httpPorts[p] = true;
        }
        for (int p : tlsPorts) {
            this.tlsPorts[p] = true;
        }
        this.routing = routing;
    }

    void routing(Routing next) {
        routing = next;
    }

    Routing routing() {
        return routing;
    }

    /** Whether the interceptor takes a connection to {@code dstIp:dstPort}; on the event loop, allocates nothing. */
    boolean intercepts(int dstIp, int dstPort) {
        if (dstIp == gateway) {
            return dstPort == explicitPort && explicitPort > 0;
        }
        Routing r = routing;
        boolean intercept = httpPorts[dstPort] ? r.interceptHttp() : tlsPorts[dstPort] && r.interceptTls();
        return intercept && !(r.directByAddress() && r.noProxy().matchesAddress(dstIp));
    }

    /** What an intercepted connection to {@code dstIp:dstPort} is. */
    Origin origin(int dstIp, int dstPort) {
        Mode mode = dstIp == gateway ? Mode.EXPLICIT : httpPorts[dstPort] ? Mode.HTTP : Mode.TLS;
        return new Origin(dstIp, dstPort, mode);
    }
}

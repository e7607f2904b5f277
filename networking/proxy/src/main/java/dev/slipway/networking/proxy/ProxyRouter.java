package dev.slipway.networking.proxy;

import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;

import dev.slipway.networking.api.OutboundRouter;

/**
 * Sends the guest's connections to the transparent ports (and to the gateway's proxy port) to
 * the {@link Interceptor}, and tells it which destination each one was meant for. Destinations
 * excluded by address (NO_PROXY IPs and CIDR blocks) stay direct without being intercepted,
 * unless a connection policy needs to see their names.
 */
final class ProxyRouter implements OutboundRouter {
    /** Entries of connections that never reached the interceptor are dropped beyond this many. */
    private static final int MAX_PENDING = 4096;
    private static final long PENDING_TTL_NANOS = 60_000_000_000L;

    enum Mode { HTTP, TLS, EXPLICIT }

    record Origin(int ip, int port, Mode mode, long at) {}

    private final ConcurrentHashMap<Integer, Origin> pending = new ConcurrentHashMap<>();
    private final InetSocketAddress target;
    private final int gateway;
    private final int explicitPort;
    private final boolean[] httpPorts = new boolean[65536];
    private final boolean[] tlsPorts = new boolean[65536];
    private volatile Routing routing;

    ProxyRouter(InetSocketAddress target, int gateway, int explicitPort, int[] httpPorts, int[] tlsPorts, Routing routing) {
        this.target = target;
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

    @Override
    public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
        if (dstIp == gateway) {
            return dstPort == explicitPort && explicitPort > 0 ? target : null;
        }
        Routing r = routing;
        boolean intercept = httpPorts[dstPort] ? r.interceptHttp() : tlsPorts[dstPort] && r.interceptTls();
        if (!intercept || r.directByAddress() && r.noProxy().matchesAddress(dstIp)) {
            return null;
        }
        return target;
    }

    @Override
    public void redirected(InetSocketAddress local, int guestIp, int guestPort, int dstIp, int dstPort) {
        Mode mode = dstIp == gateway ? Mode.EXPLICIT : httpPorts[dstPort] ? Mode.HTTP : Mode.TLS;
        long now = System.nanoTime();
        if (pending.size() >= MAX_PENDING) {
            pending.values().removeIf(o -> now - o.at() > PENDING_TTL_NANOS);
        }
        pending.put(local.getPort(), new Origin(dstIp, dstPort, mode, now));
    }

    /** The destination of the connection the stack opened from {@code port}, or null if it did not. */
    Origin claim(int port) {
        return pending.remove(port);
    }

    int pendingCount() {
        return pending.size();
    }
}

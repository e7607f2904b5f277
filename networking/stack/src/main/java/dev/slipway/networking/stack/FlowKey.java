package dev.slipway.networking.stack;

/**
 * A guest flow's address pair (guest address and port, destination address and port), the key of
 * the TCP and UDP tables. Mutable, so one instance can probe a table per packet without allocating.
 */
final class FlowKey {
    int guestIp, guestPort, dstIp, dstPort;

    FlowKey set(int gi, int gp, int di, int dp) {
        guestIp = gi; guestPort = gp; dstIp = di; dstPort = dp;
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowKey k && k.guestIp == guestIp && k.guestPort == guestPort
                && k.dstIp == dstIp && k.dstPort == dstPort;
    }

    @Override
    public int hashCode() {
        int h = ((guestIp * 31 + guestPort) * 31 + dstIp) * 31 + dstPort;
        return h ^ h >>> 16;
    }
}

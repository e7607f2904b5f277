package dev.slipway.networking.stack.ip;

/**
 * A guest flow's address pair (guest address and port, destination address and port) for either
 * family, the key of the TCP and UDP tables. IPv4 addresses sit in the low 32 bits of the low half
 * with a zero high half; IPv6 addresses use both halves. Mutable, so one instance can probe a table
 * per packet without allocating.
 */
public final class FlowKey {
    public int family;
    public long guestHi, guestLo;
    public int guestPort;
    public long dstHi, dstLo;
    public int dstPort;
    /**
     * For an IPv4 flow we opened to an address behind a guest (a container on the guest's bridge):
     * the guest's address, whose link address our packets go to; 0 when the flow's guest address
     * is itself on the guest network. Not part of the key.
     */
    public int nextHop4;

    /**
     * The key as {@code {family, guestHi, guestLo, guestPort, dstHi, dstLo, dstPort}}: how a flow is
     * described to the next version of the stack (JDK types only).
     */
    public long[] toLongs() {
        return new long[] {family, guestHi, guestLo, guestPort, dstHi, dstLo, dstPort};
    }

    /** A key read back from {@link #toLongs()}'s form; null when {@code f} is not one. */
    public static FlowKey fromLongs(long[] f) {
        if (f.length < 7 || (f[0] != 4 && f[0] != 6)) {
            return null;
        }
        FlowKey k = new FlowKey();
        k.family = (int) f[0];
        k.guestHi = f[1];
        k.guestLo = f[2];
        k.guestPort = (int) f[3];
        k.dstHi = f[4];
        k.dstLo = f[5];
        k.dstPort = (int) f[6];
        return k;
    }

    /** An IPv4 flow. */
    public FlowKey set(int guestIp, int guestPort, int dstIp, int dstPort) {
        family = 4;
        guestHi = 0;
        guestLo = guestIp & 0xffff_ffffL;
        this.guestPort = guestPort;
        dstHi = 0;
        dstLo = dstIp & 0xffff_ffffL;
        this.dstPort = dstPort;
        nextHop4 = 0;
        return this;
    }

    /** An IPv6 flow. */
    public FlowKey set6(long guestHi, long guestLo, int guestPort, long dstHi, long dstLo, int dstPort) {
        family = 6;
        this.guestHi = guestHi;
        this.guestLo = guestLo;
        this.guestPort = guestPort;
        this.dstHi = dstHi;
        this.dstLo = dstLo;
        this.dstPort = dstPort;
        nextHop4 = 0;
        return this;
    }

    /** The flow of a packet from the guest: its source is the guest's side. */
    public FlowKey set(PacketContext p, int guestPort, int dstPort) {
        family = p.family;
        guestHi = p.srcHi;
        guestLo = p.srcLo;
        this.guestPort = guestPort;
        dstHi = p.dstHi;
        dstLo = p.dstLo;
        this.dstPort = dstPort;
        nextHop4 = 0;
        return this;
    }

    public FlowKey copy() {
        FlowKey k = new FlowKey();
        k.family = family;
        k.guestHi = guestHi;
        k.guestLo = guestLo;
        k.guestPort = guestPort;
        k.dstHi = dstHi;
        k.dstLo = dstLo;
        k.dstPort = dstPort;
        k.nextHop4 = nextHop4;
        return k;
    }

    /** The guest's IPv4 address (family 4). */
    public int guestIp4() {
        return (int) guestLo;
    }

    /** The destination's IPv4 address (family 4). */
    public int dstIp4() {
        return (int) dstLo;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowKey k && k.guestLo == guestLo && k.guestPort == guestPort && k.dstLo == dstLo
                && k.dstPort == dstPort && k.guestHi == guestHi && k.dstHi == dstHi && k.family == family;
    }

    @Override
    public int hashCode() {
        long h = ((guestLo * 31 + guestPort) * 31 + dstLo) * 31 + dstPort + (guestHi ^ dstHi) * 0x9E3779B97F4A7C15L;
        int i = (int) (h ^ h >>> 32);
        return i ^ i >>> 16;
    }
}

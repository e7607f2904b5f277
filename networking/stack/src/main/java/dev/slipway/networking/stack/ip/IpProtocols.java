package dev.slipway.networking.stack.ip;

/** IP protocol numbers the gateway handles. */
public final class IpProtocols {
    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMPV6 = 58;

    private IpProtocols() {}
}

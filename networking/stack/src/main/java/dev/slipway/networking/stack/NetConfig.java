package dev.slipway.networking.stack;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.ip6.Ip6Config;

/**
 * Everything the stack needs to know about its guest network. IPv4 addresses are plain ints in
 * network byte order (the first octet in the high byte), MAC addresses longs holding 48 bits.
 */
public record NetConfig(
        int subnet,
        int prefixLength,
        int gateway,
        int hostAlias,
        int firstGuest,
        InetAddress hostLoopback,
        long gatewayMac,
        int mtu,
        String domain,
        List<String> searchDomains,
        int leaseSeconds,
        Map<Long, Integer> staticLeases,
        boolean linkLocalAllowed,
        CidrList metadataRefused,
        int tcpConnectTimeoutMillis,
        int tcpIdleTimeoutSeconds,
        int udpIdleTimeoutSeconds,
        int maxTcpConnections,
        int maxHalfOpenConnections,
        int maxUdpFlows,
        int tcpBufferBytes,
        Ip6Config ipv6) {

    public static final int MIN_MTU = 576;
    public static final int MAX_MTU = 65520;

    public NetConfig {
        if (prefixLength < 8 || prefixLength > 30) {
            throw new IllegalArgumentException("subnet prefix length must be 8..30, not " + prefixLength);
        }
        if (mtu < MIN_MTU || mtu > MAX_MTU) {
            throw new IllegalArgumentException("MTU must be " + MIN_MTU + ".." + MAX_MTU + ", not " + mtu);
        }
        for (int address : new int[] {gateway, hostAlias, firstGuest}) {
            if (!inSubnet(subnet, prefixLength, address)) {
                throw new IllegalArgumentException(Ip4.toString(address) + " is outside the subnet "
                        + Ip4.toString(subnet) + "/" + prefixLength);
            }
        }
        if (tcpBufferBytes < 64 * 1024 || tcpBufferBytes > 64 << 20) {
            throw new IllegalArgumentException("the TCP buffer size must be 64 KiB..64 MiB, not " + tcpBufferBytes);
        }
        if (metadataRefused == null) {
            throw new IllegalArgumentException("the refused metadata destinations must be a list (empty for none)");
        }
        if (ipv6 == null) {
            throw new IllegalArgumentException("the IPv6 settings must be given (disabled ones to switch IPv6 off)");
        }
        if (ipv6.enabled() && mtu < Ip6Config.MIN_MTU) {
            throw new IllegalArgumentException("IPv6 needs an MTU of at least " + Ip6Config.MIN_MTU
                    + " (RFC 8200): raise the MTU from " + mtu + " or switch IPv6 off");
        }
        searchDomains = List.copyOf(searchDomains);
        staticLeases = Map.copyOf(staticLeases);
    }

    /**
     * The defaults: 192.168.65.0/24, gateway .1, host alias .254, guests from .3, MTU 1500; IPv6 on
     * with {@link Ip6Config#DEFAULT_PREFIX}, gateway ::1 and host alias ::254 in it.
     */
    public static NetConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public int netmask() {
        return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
    }

    public int broadcast() {
        return subnet | ~netmask();
    }

    public boolean inSubnet(int address) {
        return inSubnet(subnet, prefixLength, address);
    }

    private static boolean inSubnet(int subnet, int prefix, int address) {
        int mask = -1 << (32 - prefix);
        return (address & mask) == (subnet & mask);
    }

    /**
     * What no guest packet may reach: {@link #metadataRefused} less the link-local blocks when
     * {@link #linkLocalAllowed}, the documented switch for link-local.
     */
    public CidrList refusedDestinations() {
        return linkLocalAllowed ? metadataRefused.without(LINK_LOCAL) : metadataRefused;
    }

    private static final CidrList LINK_LOCAL = CidrList.parse(CidrList.LINK_LOCAL);

    /** The TCP maximum segment size for this MTU. */
    public int mss() {
        return mtu - 40;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.subnet = subnet; b.prefixLength = prefixLength; b.gateway = gateway; b.hostAlias = hostAlias;
        b.firstGuest = firstGuest; b.hostLoopback = hostLoopback; b.gatewayMac = gatewayMac; b.mtu = mtu;
        b.domain = domain; b.searchDomains = searchDomains; b.leaseSeconds = leaseSeconds;
        b.staticLeases = staticLeases; b.linkLocalAllowed = linkLocalAllowed; b.metadataRefused = metadataRefused;
        b.tcpConnectTimeoutMillis = tcpConnectTimeoutMillis; b.tcpIdleTimeoutSeconds = tcpIdleTimeoutSeconds;
        b.udpIdleTimeoutSeconds = udpIdleTimeoutSeconds; b.maxTcpConnections = maxTcpConnections;
        b.maxHalfOpenConnections = maxHalfOpenConnections; b.maxUdpFlows = maxUdpFlows;
        b.tcpBufferBytes = tcpBufferBytes;
        b.ipv6 = ipv6;
        return b;
    }

    public static final class Builder {
        private int subnet = Ip4.parse("192.168.65.0");
        private int prefixLength = 24;
        private int gateway = Ip4.parse("192.168.65.1");
        private int hostAlias = Ip4.parse("192.168.65.254");
        private int firstGuest = Ip4.parse("192.168.65.3");
        private InetAddress hostLoopback = loopback();
        private long gatewayMac = Mac.parse("5a:94:ef:e4:0c:dd");
        private int mtu = 1500;
        private String domain = "slipway.internal";
        private List<String> searchDomains = List.of("slipway.internal");
        private int leaseSeconds = 7 * 24 * 3600;
        private Map<Long, Integer> staticLeases = Map.of();
        private boolean linkLocalAllowed;
        private CidrList metadataRefused = CidrList.cloudMetadata();
        private int tcpConnectTimeoutMillis = 10_000;
        private int tcpIdleTimeoutSeconds = 7200;
        private int udpIdleTimeoutSeconds = 60;
        private int maxTcpConnections = 16_384;
        private int maxHalfOpenConnections = 1024;
        private int maxUdpFlows = 4096;
        private int tcpBufferBytes = 1024 * 1024;
        private Ip6Config ipv6 = Ip6Config.defaults();

        private static InetAddress loopback() {
            try {
                return InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Sets the subnet and, as in the defaults, gateway .1, host alias .254 (or the last usable) and guests from .3. */
        public Builder subnet(int network, int prefix) {
            int mask = -1 << (32 - prefix);
            subnet = network & mask;
            prefixLength = prefix;
            gateway = subnet + 1;
            hostAlias = prefix == 24 ? subnet + 254 : (subnet | ~mask) - 1;
            firstGuest = subnet + 3;
            return this;
        }

        public Builder gateway(int v) { gateway = v; return this; }
        public Builder hostAlias(int v) { hostAlias = v; return this; }
        public Builder firstGuest(int v) { firstGuest = v; return this; }
        public Builder hostLoopback(InetAddress v) { hostLoopback = v; return this; }
        public Builder gatewayMac(long v) { gatewayMac = v; return this; }
        public Builder mtu(int v) { mtu = v; return this; }
        public Builder domain(String v) { domain = v; return this; }
        public Builder searchDomains(List<String> v) { searchDomains = v; return this; }
        public Builder leaseSeconds(int v) { leaseSeconds = v; return this; }
        public Builder staticLeases(Map<Long, Integer> v) { staticLeases = v; return this; }
        public Builder linkLocalAllowed(boolean v) { linkLocalAllowed = v; return this; }
        public Builder metadataRefused(CidrList v) { metadataRefused = v; return this; }
        public Builder tcpConnectTimeoutMillis(int v) { tcpConnectTimeoutMillis = v; return this; }
        public Builder tcpIdleTimeoutSeconds(int v) { tcpIdleTimeoutSeconds = v; return this; }
        public Builder udpIdleTimeoutSeconds(int v) { udpIdleTimeoutSeconds = v; return this; }
        public Builder maxTcpConnections(int v) { maxTcpConnections = v; return this; }
        public Builder maxHalfOpenConnections(int v) { maxHalfOpenConnections = v; return this; }
        public Builder maxUdpFlows(int v) { maxUdpFlows = v; return this; }
        public Builder tcpBufferBytes(int v) { tcpBufferBytes = v; return this; }
        public Builder ipv6(Ip6Config v) { ipv6 = v; return this; }

        public NetConfig build() {
            return new NetConfig(subnet, prefixLength, gateway, hostAlias, firstGuest, hostLoopback, gatewayMac,
                    mtu, domain, searchDomains, leaseSeconds, staticLeases, linkLocalAllowed, metadataRefused,
                    tcpConnectTimeoutMillis, tcpIdleTimeoutSeconds, udpIdleTimeoutSeconds, maxTcpConnections,
                    maxHalfOpenConnections, maxUdpFlows, tcpBufferBytes, ipv6);
        }
    }
}

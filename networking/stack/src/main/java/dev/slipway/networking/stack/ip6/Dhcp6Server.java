package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;
import java.util.List;

import dev.slipway.networking.stack.Drop;

/**
 * Stateless DHCPv6 (RFC 8415 section 6.1): answers an Information-request with the gateway as DNS
 * server (option 23) and the search domains (option 24). Addresses come from SLAAC, so requests for
 * them (Solicit, Request, ...) are not answered; a malformed message, or one naming another server,
 * is dropped and counted.
 */
final class Dhcp6Server {
    static final int CLIENT_PORT = 546;
    static final int SERVER_PORT = 547;
    private static final int INFORMATION_REQUEST = 11;
    private static final int REPLY = 7;
    private static final int OPTION_CLIENT_ID = 1;
    private static final int OPTION_SERVER_ID = 2;
    private static final int OPTION_IA_NA = 3;
    private static final int OPTION_IA_TA = 4;
    private static final int OPTION_IA_PD = 25;
    private static final int OPTION_DNS_SERVERS = 23;
    private static final int OPTION_DOMAIN_LIST = 24;
    private static final int OPTION_REFRESH_TIME = 32;
    private static final int MAX_DUID = 130;
    private static final int MAX_OPTIONS = 64;
    private final Ip6Layer layer;
    private final byte[] searchList;
    /** DUID-LL (RFC 8415 11.4) of the gateway's MAC: type 3, hardware type 1 (Ethernet). */
    private final ByteBuffer serverId = ByteBuffer.allocate(10);
    long replies;

    Dhcp6Server(Ip6Layer layer, List<String> searchDomains) {
        this.layer = layer;
        this.searchList = RouterAdvertiser.dnsNames(searchDomains);
        serverId.putShort(0, (short) 3).putShort(2, (short) 1)
                .putShort(4, (short) (layer.gatewayMac >>> 32)).putInt(6, (int) layer.gatewayMac);
    }

    /** A UDP datagram to port 547 (the layer checked that much). */
    void input(ByteBuffer f, Ip6Packet p) {
        int udp = p.l4Offset;
        int length = p.l4Length();
        if (p.fragmented() || length < 12 || (f.getShort(udp + 4) & 0xffff) != length
                || (f.getShort(udp) & 0xffff) != CLIENT_PORT || f.getShort(udp + 6) == 0
                || !Icmp6.verify(f, Ip6Layer.IP, udp, length, HeaderChain.UDP) || !Ip6.isLinkLocal(p.srcHi)) {
            layer.output.drop(Drop.DHCP6_INVALID);
            return;
        }
        int message = udp + 8;
        if ((f.get(message) & 0xff) != INFORMATION_REQUEST) {
            layer.output.drop(Drop.DHCP6_INVALID); // addresses come from SLAAC: no stateful exchanges
            return;
        }
        int clientId = -1;
        int clientIdLength = 0;
        int options = 0;
        for (int o = message + 4; o < p.end; ) {
            if (o + 4 > p.end || ++options > MAX_OPTIONS) {
                layer.output.drop(Drop.DHCP6_INVALID);
                return;
            }
            int code = f.getShort(o) & 0xffff;
            int len = f.getShort(o + 2) & 0xffff;
            if (o + 4 + len > p.end) {
                layer.output.drop(Drop.DHCP6_INVALID);
                return;
            }
            switch (code) {
                case OPTION_CLIENT_ID -> {
                    if (len < 2 || len > MAX_DUID || clientId >= 0) {
                        layer.output.drop(Drop.DHCP6_INVALID);
                        return;
                    }
                    clientId = o + 4;
                    clientIdLength = len;
                }
                case OPTION_SERVER_ID -> {
                    if (len != serverId.capacity() || !sameServer(f, o + 4)) {
                        layer.output.drop(Drop.DHCP6_INVALID); // addressed to another server
                        return;
                    }
                }
                case OPTION_IA_NA, OPTION_IA_TA, OPTION_IA_PD -> {
                    layer.output.drop(Drop.DHCP6_INVALID); // RFC 8415 16.12: not in an Information-request
                    return;
                }
                default -> { }
            }
            o += 4 + len;
        }
        ByteBuffer out = layer.control;
        out.clear();
        int u = Ip6Layer.PAYLOAD;
        int m = u + 8;
        out.putInt(m, REPLY << 24 | f.getInt(message) & 0xff_ffff);
        int o = m + 4;
        out.putShort(o, (short) OPTION_SERVER_ID).putShort(o + 2, (short) serverId.capacity());
        out.put(o + 4, serverId, 0, serverId.capacity());
        o += 4 + serverId.capacity();
        if (clientId >= 0) {
            out.putShort(o, (short) OPTION_CLIENT_ID).putShort(o + 2, (short) clientIdLength);
            out.put(o + 4, f, clientId, clientIdLength);
            o += 4 + clientIdLength;
        }
        out.putShort(o, (short) OPTION_DNS_SERVERS).putShort(o + 2, (short) 16);
        out.putLong(o + 4, layer.prefix).putLong(o + 12, layer.gatewayId);
        o += 20;
        if (searchList.length > 0) {
            out.putShort(o, (short) OPTION_DOMAIN_LIST).putShort(o + 2, (short) searchList.length);
            out.put(o + 4, searchList);
            o += 4 + searchList.length;
        }
        out.putShort(o, (short) OPTION_REFRESH_TIME).putShort(o + 2, (short) 4).putInt(o + 4, 86_400);
        o += 8;
        int udpLength = o - u;
        out.putShort(u, (short) SERVER_PORT).putShort(u + 2, (short) CLIENT_PORT);
        out.putShort(u + 4, (short) udpLength).putShort(u + 6, (short) 0);
        layer.send(out, udpLength, HeaderChain.UDP, 255, Ip6.LINK_LOCAL_PREFIX, layer.linkLocalId, p.srcHi, p.srcLo, p.srcMac);
        replies++;
    }

    private boolean sameServer(ByteBuffer f, int at) {
        for (int i = 0; i < serverId.capacity(); i++) {
            if (f.get(at + i) != serverId.get(i)) {
                return false;
            }
        }
        return true;
    }
}

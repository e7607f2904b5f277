package dev.slipway.networking.stack.ip4;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.Mac;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.ip.DatagramService;
import dev.slipway.networking.stack.ip.PacketContext;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.link.Ethernet;

/**
 * The guests' DHCP server (RFC 2131): a pool from the first guest address, static leases by MAC,
 * the gateway as router and DNS server, domain and search list, MTU, long leases. Hand-written
 * because it is a few hundred bytes of BOOTP on the ip's own frame path; no Java library serves
 * DHCP from a caller-supplied buffer.
 */
public final class Dhcp implements DatagramService {
    static final int SERVER_PORT = 67;
    static final int CLIENT_PORT = 68;
    private static final int MAGIC = 0x63825363;
    private static final int DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6, RELEASE = 7, INFORM = 8;

    private final Ip4Layer layer;
    private final NetConfig config;
    private final Map<Long, Integer> leases = new HashMap<>();
    private final Map<Integer, Long> owners = new HashMap<>();
    private final Map<Long, Long> granted = new HashMap<>();
    private final byte[] searchOption;
    private long acks;

    Dhcp(Ip4Layer layer) {
        this.layer = layer;
        this.config = layer.config;
        this.searchOption = encodeSearch(config.searchDomains());
        config.staticLeases().forEach((mac, ip) -> owners.put(ip, mac));
    }

    @Override
    public boolean datagram(PacketContext p, int dstPort, ByteBuffer f, int offset, int length) {
        if (dstPort != SERVER_PORT || p.family != 4
                || (p.destination != PacketContext.Destination.BROADCAST && p.destination != PacketContext.Destination.GATEWAY)) {
            return false;
        }
        input(f, offset, length);
        return true;
    }

    /** A BOOTP message at {@code off} of {@code f}, {@code len} bytes long. */
    void input(ByteBuffer f, int off, int len) {
        if (len < 240 || f.get(off) != 1 || f.get(off + 1) != 1 || f.get(off + 2) != 6 || f.getInt(off + 236) != MAGIC) {
            layer.stats.drop(Drop.DHCP_INVALID);
            return;
        }
        int xid = f.getInt(off + 4);
        int flags = f.getShort(off + 10) & 0xffff;
        int ciaddr = f.getInt(off + 12);
        long mac = Ethernet.getMac(f, off + 28);
        int type = 0;
        int requested = 0;
        int serverId = 0;
        int end = off + len;
        for (int i = off + 240; i < end; ) {
            int code = f.get(i) & 0xff;
            if (code == 255) {
                break;
            }
            if (code == 0) {
                i++;
                continue;
            }
            if (i + 1 >= end) {
                break;
            }
            int olen = f.get(i + 1) & 0xff;
            int v = i + 2;
            if (v + olen > end) {
                layer.stats.drop(Drop.DHCP_INVALID);
                return;
            }
            if (code == 53 && olen == 1) {
                type = f.get(v) & 0xff;
            } else if (code == 50 && olen == 4) {
                requested = f.getInt(v);
            } else if (code == 54 && olen == 4) {
                serverId = f.getInt(v);
            }
            i = v + olen;
        }
        switch (type) {
            case DISCOVER -> {
                int ip = assign(mac);
                if (ip == 0) {
                    layer.stats.drop(Drop.DHCP_POOL_EXHAUSTED);
                    return;
                }
                reply(OFFER, xid, flags, 0, ip, mac);
            }
            case REQUEST -> {
                if (serverId != 0 && serverId != config.gateway()) {
                    return;
                }
                int ip = assign(mac);
                int wanted = requested != 0 ? requested : ciaddr;
                if (ip == 0 || (wanted != 0 && wanted != ip)) {
                    reply(NAK, xid, flags, 0, 0, mac);
                    return;
                }
                leases.put(mac, ip);
                owners.put(ip, mac);
                granted.put(mac, System.currentTimeMillis());
                // the leased address is the guest's from now on: connections we open to it need its MAC
                layer.arp.put(ip, mac);
                acks++;
                reply(ACK, xid, flags, ciaddr, ip, mac);
            }
            case RELEASE, DECLINE -> {
                Integer ip = leases.remove(mac);
                granted.remove(mac);
                if (ip != null && !config.staticLeases().containsKey(mac)) {
                    owners.remove(ip);
                }
            }
            case INFORM -> reply(ACK, xid, flags, ciaddr, 0, mac);
            default -> layer.stats.drop(Drop.DHCP_INVALID);
        }
    }

    /** The address for {@code mac}: static, leased before, or the first free one; 0 when the pool is exhausted. */
    private int assign(long mac) {
        Integer fixed = config.staticLeases().get(mac);
        if (fixed != null) {
            return fixed;
        }
        Integer leased = leases.get(mac);
        if (leased != null) {
            return leased;
        }
        for (int ip = config.firstGuest(); ip != config.broadcast() && config.inSubnet(ip); ip++) {
            if (ip != config.gateway() && ip != config.hostAlias() && !owners.containsKey(ip)) {
                leases.put(mac, ip);
                owners.put(ip, mac);
                return ip;
            }
        }
        return 0;
    }

    private void reply(int type, int xid, int flags, int ciaddr, int yiaddr, long mac) {
        ByteBuffer o = layer.out;
        o.clear();
        int b = Ip4Layer.IP_OFF + 28;
        for (int i = 0; i < 300; i += 4) {
            o.putInt(b + i, 0);
        }
        o.put(b, (byte) 2);
        o.put(b + 1, (byte) 1);
        o.put(b + 2, (byte) 6);
        o.putInt(b + 4, xid);
        o.putShort(b + 10, (short) flags);
        o.putInt(b + 12, type == ACK ? ciaddr : 0);
        o.putInt(b + 16, yiaddr);
        o.putInt(b + 20, config.gateway());
        Ethernet.putMac(o, b + 28, mac);
        o.putInt(b + 236, MAGIC);
        int p = b + 240;
        p = opt(o, p, 53, (byte) type);
        p = opt4(o, p, 54, config.gateway());
        if (type != NAK) {
            if (yiaddr != 0) {
                p = opt4(o, p, 51, config.leaseSeconds());
                p = opt4(o, p, 58, config.leaseSeconds() / 2);
                p = opt4(o, p, 59, (int) (config.leaseSeconds() * 7L / 8));
            }
            p = opt4(o, p, 1, config.netmask());
            p = opt4(o, p, 28, config.broadcast());
            p = opt4(o, p, 3, config.gateway());
            p = opt4(o, p, 6, config.gateway());
            o.put(p, (byte) 26).put(p + 1, (byte) 2).putShort(p + 2, (short) config.mtu());
            p += 4;
            byte[] domain = config.domain().getBytes(StandardCharsets.US_ASCII);
            if (domain.length > 0 && domain.length < 256) {
                o.put(p, (byte) 15).put(p + 1, (byte) domain.length).put(p + 2, domain);
                p += 2 + domain.length;
            }
            if (searchOption.length > 0) {
                o.put(p, (byte) 119).put(p + 1, (byte) searchOption.length).put(p + 2, searchOption);
                p += 2 + searchOption.length;
            }
        }
        o.put(p++, (byte) 255);
        int dhcpLen = Math.max(300, p - b);
        int udpLen = 8 + dhcpLen;
        int udp = Ip4Layer.IP_OFF + 20;
        int dst = ciaddr != 0 && type != NAK ? ciaddr : -1;
        o.putShort(udp, (short) SERVER_PORT).putShort(udp + 2, (short) CLIENT_PORT)
                .putShort(udp + 4, (short) udpLen).putShort(udp + 6, (short) 0);
        int sum = Checksum.fold(Checksum.sum(o, udp, udpLen, Checksum.pseudoHeader(config.gateway(), dst, IpProtocols.UDP, udpLen)));
        o.putShort(udp + 6, (short) (sum == 0 ? 0xffff : sum));
        layer.ipHeader(o, 20 + udpLen, IpProtocols.UDP, config.gateway(), dst, false);
        if (dst != -1) {
            layer.arp.put(dst, mac);
        }
        // the client has no address yet: its MAC, not the ARP table, says where the reply goes
        Ethernet.putMac(o, 0, dst == -1 ? Mac.BROADCAST : mac);
        Ethernet.putMac(o, 6, config.gatewayMac());
        o.putShort(12, (short) Ethernet.TYPE_IPV4);
        int frameLen = Ethernet.HLEN + 20 + udpLen;
        o.limit(frameLen).position(0);
        layer.sendFrame(o, frameLen);
    }

    private static int opt(ByteBuffer o, int p, int code, byte v) {
        o.put(p, (byte) code).put(p + 1, (byte) 1).put(p + 2, v);
        return p + 3;
    }

    private static int opt4(ByteBuffer o, int p, int code, int v) {
        o.put(p, (byte) code).put(p + 1, (byte) 4).putInt(p + 2, v);
        return p + 6;
    }

    /** RFC 3397 domain search list: plain length-prefixed labels, no compression. */
    static byte[] encodeSearch(List<String> domains) {
        ByteBuffer b = ByteBuffer.allocate(255);
        for (String d : domains) {
            for (String label : d.split("\\.")) {
                byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
                if (bytes.length == 0 || bytes.length > 63 || b.remaining() < bytes.length + 2) {
                    continue;
                }
                b.put((byte) bytes.length).put(bytes);
            }
            if (b.remaining() > 0) {
                b.put((byte) 0);
            }
        }
        byte[] r = new byte[b.position()];
        b.flip().get(r);
        return r;
    }

    long acks() {
        return acks;
    }

    List<Map<String, Object>> leases() {
        List<Map<String, Object>> list = new ArrayList<>();
        leases.forEach((mac, ip) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mac", Mac.toString(mac));
            m.put("ip", Ip4.toString(ip));
            m.put("static", config.staticLeases().containsKey(mac));
            Long at = granted.get(mac);
            if (at != null) {
                m.put("expiresEpochMillis", at + config.leaseSeconds() * 1000L);
            }
            list.add(m);
        });
        return list;
    }

    /** Every dynamic lease as {@code {mac, ip, grantedEpochMillis}} (0 when unknown). */
    public List<long[]> export() {
        List<long[]> list = new ArrayList<>();
        leases.forEach((mac, ip) -> list.add(new long[] {mac, ip, granted.getOrDefault(mac, 0L)}));
        return list;
    }

    /** Takes leases a previous version granted; an address outside this configuration's network is left out. */
    public void restore(List<long[]> handed) {
        for (long[] lease : handed) {
            if (lease.length != 3 || !config.inSubnet((int) lease[1])) {
                continue;
            }
            long mac = lease[0];
            int ip = (int) lease[1];
            leases.put(mac, ip);
            owners.put(ip, mac);
            if (lease[2] != 0) {
                granted.put(mac, lease[2]);
            }
            layer.arp.put(ip, mac);
        }
    }
}

package dev.slipway.networking.stack.ip4;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.Mac;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.Stats;
import dev.slipway.networking.stack.link.Ethernet;
import dev.slipway.networking.stack.link.FrameOutput;

/** ARP for the gateway and the host alias, and the table of the guests' MAC addresses. */
final class Arp {
    private static final int ARP_LEN = 28;
    private final NetConfig config;
    private final Stats stats;
    private final FrameOutput links;
    private final IntLongMap table = new IntLongMap(4096);
    private final ByteBuffer request = ByteBuffer.allocateDirect(Ethernet.HLEN + ARP_LEN);
    private int lastRequest;
    private long lastRequestNanos;

    Arp(NetConfig config, Stats stats, FrameOutput links) {
        this.config = config;
        this.stats = stats;
        this.links = links;
    }

    void put(int ip, long mac) {
        table.put(ip, mac);
    }

    /** Remembers a guest's address from a packet it sent: only guest addresses of the subnet, never ours. */
    void learn(int ip, long mac) {
        if (ip != 0 && config.inSubnet(ip) && ip != config.gateway() && ip != config.hostAlias()) {
            table.put(ip, mac);
        }
    }

    /** The MAC of the guest owning {@code ip}, or -1 after asking for it. */
    long macOf(int ip) {
        long mac = table.get(ip);
        if (mac < 0) {
            request(ip);
        }
        return mac;
    }

    void input(ByteBuffer f, int len) {
        if (len < Ethernet.HLEN + ARP_LEN) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        int a = Ethernet.HLEN;
        if (f.getShort(a) != 1 || f.getShort(a + 2) != Ethernet.TYPE_IPV4 || f.get(a + 4) != 6 || f.get(a + 5) != 4) {
            stats.drop(Drop.BAD_IP_HEADER);
            return;
        }
        int op = f.getShort(a + 6);
        long sha = Ethernet.getMac(f, a + 8);
        int spa = f.getInt(a + 14);
        int tpa = f.getInt(a + 24);
        if (!Mac.isGroup(sha)) {
            learn(spa, sha);
        }
        if (op == 1 && (tpa == config.gateway() || tpa == config.hostAlias())) {
            f.putShort(a + 6, (short) 2);
            Ethernet.putMac(f, a + 18, sha);
            f.putInt(a + 24, spa);
            Ethernet.putMac(f, a + 8, config.gatewayMac());
            f.putInt(a + 14, tpa);
            Ethernet.putMac(f, 0, sha);
            Ethernet.putMac(f, 6, config.gatewayMac());
            links.send(f, Ethernet.HLEN + ARP_LEN, 0);
        }
    }

    /**
     * Asks the guests who has {@code ip} (a connection we open, e.g. for a published port, may
     * target a guest that has not sent us anything yet); the dropped packet's retransmission finds
     * the answer learned. At most one request per address every 100 ms.
     */
    private void request(int ip) {
        long now = System.nanoTime();
        if (!config.inSubnet(ip) || (ip == lastRequest && now - lastRequestNanos < 100_000_000L)) {
            return;
        }
        lastRequest = ip;
        lastRequestNanos = now;
        ByteBuffer a = request;
        a.clear();
        Ethernet.header(a, Mac.BROADCAST, config.gatewayMac(), Ethernet.TYPE_ARP);
        int o = Ethernet.HLEN;
        a.putShort(o, (short) 1).putShort(o + 2, (short) Ethernet.TYPE_IPV4);
        a.put(o + 4, (byte) 6).put(o + 5, (byte) 4).putShort(o + 6, (short) 1);
        Ethernet.putMac(a, o + 8, config.gatewayMac());
        a.putInt(o + 14, config.gateway());
        Ethernet.putMac(a, o + 18, 0);
        a.putInt(o + 24, ip);
        links.send(a, Ethernet.HLEN + ARP_LEN, 0);
    }

    int size() {
        return table.size();
    }
}

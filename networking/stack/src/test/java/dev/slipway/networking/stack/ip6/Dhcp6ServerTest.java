package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.Drop;

class Dhcp6ServerTest {
    static final long[] DHCP_SERVERS = {Ip6.ALL_NODES_HI, Ip6.DHCP_SERVERS_LO};

    static ByteBuffer request(int type, byte[] options) {
        ByteBuffer m = ByteBuffer.allocate(4 + options.length);
        m.putInt(type << 24 | 0xabcdef).put(options);
        return packet(Ip6.multicastMac(Ip6.DHCP_SERVERS_LO), GUEST_LL, DHCP_SERVERS, 1, 17,
                udp(GUEST_LL, DHCP_SERVERS, 546, 547, m.array()));
    }

    static byte[] clientId() {
        return new byte[] {0, 1, 0, 10, 0, 3, 0, 1, 2, 0, 0, 0, 0, 7};
    }

    @Test
    void anInformationRequestGetsTheGatewayAsDnsServer() {
        Guest6 g = new Guest6();
        g.receive(request(11, clientId()));
        assertEquals(1, g.sent.size(), java.util.Arrays.toString(g.drops));
        ByteBuffer r = g.last();
        assertEquals(17, r.get(20));
        assertEquals(547, r.getShort(54));
        assertEquals(546, r.getShort(56));
        assertEquals(GUEST_LL[1], r.getLong(46));
        assertTrue(checksumOk(r));
        assertEquals(7 << 24 | 0xabcdef, r.getInt(62), "a reply with the same transaction");
        boolean dns = false;
        boolean client = false;
        boolean server = false;
        for (int o = 66; o < r.limit(); ) {
            int code = r.getShort(o);
            int len = r.getShort(o + 2);
            if (code == 23) {
                dns = r.getLong(o + 4) == GATEWAY[0] && r.getLong(o + 12) == GATEWAY[1];
            }
            client |= code == 1 && len == 10;
            server |= code == 2;
            o += 4 + len;
        }
        assertTrue(dns && client && server);
    }

    @Test
    void statefulRequestsAndMalformedMessagesAreCounted() {
        Guest6 g = new Guest6();
        g.receive(request(1, clientId())); // Solicit
        g.receive(request(11, new byte[] {0, 3, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})); // IA_NA
        g.receive(request(11, new byte[] {0, 1, 0, 40, 0, 3})); // option past the end
        g.receive(request(11, new byte[] {0, 2, 0, 10, 0, 3, 0, 1, 9, 9, 9, 9, 9, 9})); // another server
        byte[] tooMany = new byte[4 * 100];
        for (int i = 0; i < tooMany.length; i += 4) {
            tooMany[i + 1] = 8; // elapsed-time options of length 0
        }
        g.receive(request(11, tooMany));
        ByteBuffer badChecksum = request(11, clientId());
        badChecksum.put(60, (byte) 0x55);
        g.receive(badChecksum);
        assertEquals(6, g.drops(Drop.DHCP6_INVALID));
        assertEquals(0, g.sent.size());
    }
}

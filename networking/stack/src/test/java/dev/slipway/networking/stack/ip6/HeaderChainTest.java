package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.Drop;

/** Hostile extension-header chains: each is dropped and counted, a parameter problem returned where RFC 8200 asks for one. */
class HeaderChainTest {

    /** An 8-byte options header (next header, length 0, six bytes of options). */
    static byte[] options(int next, int... optionBytes) {
        byte[] h = new byte[8];
        h[0] = (byte) next;
        for (int i = 0; i < 6; i++) {
            h[2 + i] = i < optionBytes.length ? (byte) optionBytes[i] : 0;
        }
        if (optionBytes.length == 0) {
            h[2] = 1; // PadN of 4
            h[3] = 4;
        }
        return h;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    static byte[] echoBody() {
        return new byte[] {0, 1, 0, 1, 'h', 'i'};
    }

    /** An echo request to the gateway behind the given chain ({@code first} = the fixed header's next header). */
    static ByteBuffer echoBehind(int first, byte[] chain) {
        byte[] icmp = icmp(GUEST, GATEWAY, 128, 0, echoBody());
        return packet(GATEWAY_MAC, GUEST, GATEWAY, 64, first, concat(chain, icmp));
    }

    @Test
    void anOrdinaryChainReachesTheEcho() {
        Guest6 g = new Guest6();
        g.receive(echoBehind(0, concat(options(60), options(58))));
        assertEquals(1, g.sent.size());
        assertEquals(129, g.last().get(54) & 0xff);
        assertEquals(0, g.totalDrops());
    }

    @Test
    void hopByHopAnywhereButFirstIsAParameterProblem() {
        Guest6 g = new Guest6();
        g.receive(echoBehind(60, concat(options(0), options(58))));
        assertEquals(1, g.drops(Drop.IPV6_EXTENSION_HEADERS));
        ByteBuffer err = g.last();
        assertEquals(4, err.get(54) & 0xff);
        assertEquals(1, err.get(55) & 0xff, "unrecognised next header");
        assertEquals(40, err.getInt(58), "points at the next-header field of the destination options");
    }

    @Test
    void aRepeatedHeaderTypeIsDropped() {
        Guest6 g = new Guest6();
        g.receive(echoBehind(60, concat(options(60), options(60), options(58))));
        g.receive(echoBehind(43, concat(new byte[] {43, 0, 0, 0, 0, 0, 0, 0}, new byte[] {58, 0, 0, 0, 0, 0, 0, 0})));
        assertEquals(2, g.drops(Drop.IPV6_EXTENSION_HEADERS));
        assertEquals(0, g.sent.size());
    }

    @Test
    void aChainLongerThanTheLimitIsDropped() {
        Guest6 g = new Guest6();
        byte[] big = new byte[1032];
        big[0] = 60;
        big[1] = (byte) (1032 / 8 - 1);
        for (int i = 2; i < big.length; i += 8) { // experimental options of the skip kind, six bytes each
            big[i] = 0x1e;
            big[i + 1] = 4;
            if (i + 6 < big.length) {
                big[i + 6] = 1;
                big[i + 7] = 0;
            }
        }
        g.receive(echoBehind(0, concat(big, options(58))));
        assertEquals(1, g.drops(Drop.IPV6_EXTENSION_HEADERS));
        assertEquals(0, g.sent.size());
    }

    @Test
    void paddingBeyondSevenBytesIsDropped() {
        Guest6 g = new Guest6();
        byte[] h = new byte[16];
        h[0] = 58;
        h[1] = 1;
        h[2] = 1;
        h[3] = 12; // PadN of 14
        g.receive(echoBehind(60, concat(h)));
        byte[] pad1s = options(58, 0, 0, 0, 0, 0, 0);
        g.receive(echoBehind(60, concat(h)));
        g.receive(echoBehind(60, pad1s));
        assertEquals(2, g.drops(Drop.IPV6_EXTENSION_HEADERS));
        assertEquals(1, g.sent.size(), "six Pad1 are fine");
    }

    @Test
    void aSourceRouteThroughTheGatewayIsRefused() {
        Guest6 g = new Guest6();
        byte[] routing = {58, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        g.receive(echoBehind(43, routing));
        assertEquals(1, g.drops(Drop.IPV6_EXTENSION_HEADERS));
        assertEquals(4, g.last().get(54));
        assertEquals(0, g.last().get(55), "erroneous header field");
        assertEquals(42, g.last().getInt(58), "the routing type");
    }

    @Test
    void optionsAreHandledAsTheirTypeAsks() {
        Guest6 g = new Guest6();
        g.receive(echoBehind(60, options(58, 0x3e, 1, 0, 1, 1, 0))); // 00: skip
        assertEquals(1, g.sent.size());
        g.receive(echoBehind(60, options(58, 0x7e, 1, 0, 1, 1, 0))); // 01: discard silently
        assertEquals(1, g.sent.size());
        g.receive(echoBehind(60, options(58, 0xbe, 1, 0, 1, 1, 0))); // 10: discard, parameter problem
        assertEquals(2, g.sent.size());
        assertEquals(2, g.last().get(55), "unrecognised option");
        assertEquals(42, g.last().getInt(58));
        g.receive(echoBehind(60, options(58, 0x3e, 9)));  // option runs past its header
        assertEquals(3, g.drops(Drop.IPV6_EXTENSION_HEADERS));
    }

    @Test
    void truncatedAndUnknownHeadersAreDropped() {
        Guest6 g = new Guest6();
        g.receive(packet(GATEWAY_MAC, GUEST, GATEWAY, 64, 60, new byte[] {58, 4, 1, 2}));
        g.receive(packet(GATEWAY_MAC, GUEST, GATEWAY, 64, 60, new byte[] {58, 4, 1, 2, 0, 0, 0, 0}));
        assertEquals(2, g.drops(Drop.IPV6_EXTENSION_HEADERS));
        g.receive(packet(GATEWAY_MAC, GUEST, GATEWAY, 64, 135, new byte[16])); // mobility: not taken
        assertEquals(3, g.drops(Drop.IPV6_EXTENSION_HEADERS));
        assertEquals(1, g.last().get(55));
        assertEquals(6, g.last().getInt(58));
        g.receive(packet(GATEWAY_MAC, GUEST, GATEWAY, 64, 59, new byte[0]));
        assertEquals(1, g.drops(Drop.UNSUPPORTED_PROTOCOL));
    }

    @Test
    void walkingIsBoundedForEveryChainShape() {
        // every chain of up to four headers from the interesting types: no exception, the outcome counted
        int[] types = {0, 43, 44, 51, 60, 58, 59, 6, 17, 50, 135, 253};
        Guest6 g = new Guest6().withUpper();
        int frames = 0;
        for (int a : types) {
            for (int b : types) {
                for (int c : types) {
                    for (int d : types) {
                        byte[] chain = concat(header(b), header(c), header(d), new byte[16]);
                        g.receive(packet(GATEWAY_MAC, GUEST, GATEWAY, 64, a, chain));
                        frames++;
                    }
                }
            }
        }
        assertTrue(g.totalDrops() + g.sent.size() + g.upper.size() >= frames - g.upper.size());
        assertEquals(List.of(), g.upper.stream().filter(s -> !s.startsWith("tcp") && !s.startsWith("udp")).toList());
    }

    private static byte[] header(int next) {
        return new byte[] {(byte) next, 0, 1, 4, 0, 0, 0, 0};
    }
}

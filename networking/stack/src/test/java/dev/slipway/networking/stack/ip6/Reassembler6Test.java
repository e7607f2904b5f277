package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.Drop;

class Reassembler6Test {

    /** A fragment of {@code whole} (upper-layer bytes) from {@code offset}, {@code length} bytes. */
    static ByteBuffer fragment(byte[] whole, int offset, int length, boolean more, int id, int upper) {
        ByteBuffer frag = ByteBuffer.allocate(8 + length);
        frag.put((byte) upper).put((byte) 0).putShort((short) (offset | (more ? 1 : 0))).putInt(id);
        frag.put(whole, offset, length);
        return packet(GATEWAY_MAC, GUEST, INTERNET, 64, 44, frag.array());
    }

    static byte[] datagram(int size) {
        byte[] data = new byte[size - 8];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        return udp(GUEST, INTERNET, 40000, 9, data);
    }

    @Test
    void reassemblesADatagramInAnyOrder() {
        Guest6 g = new Guest6().withUpper();
        byte[] d = datagram(3000);
        g.receive(fragment(d, 1448, 1448, true, 7, 17));
        g.receive(fragment(d, 2896, 104, false, 7, 17));
        assertEquals(0, g.upper.size());
        g.receive(fragment(d, 0, 1448, true, 7, 17));
        assertEquals(1, g.upper.size(), g.drops.toString());
        assertTrue(g.upper.get(0).startsWith("udp") && g.upper.get(0).endsWith("REMOTE len 3000"), g.upper.get(0));
        assertEquals(0, g.layer.reassembler.inProgress());
        assertEquals(0, g.totalDrops());
    }

    @Test
    void anAtomicFragmentIsAnOrdinaryPacket() {
        Guest6 g = new Guest6().withUpper();
        byte[] d = datagram(100);
        g.receive(fragment(d, 0, 100, false, 9, 17));
        assertEquals(1, g.upper.size());
    }

    @Test
    void tinyFragmentsAreDropped() {
        Guest6 g = new Guest6().withUpper();
        byte[] d = datagram(3000);
        for (int off = 0; off < 2992; off += 8) {
            g.receive(fragment(d, off, 8, true, 11, 17));
        }
        assertEquals(0, g.upper.size());
        assertEquals(374, g.drops(Drop.FRAGMENT_TINY));
        assertEquals(0, g.layer.reassembler.inProgress());
    }

    @Test
    void aFirstFragmentWithoutTheUpperLayerHeaderIsDropped() {
        Guest6 g = new Guest6().withUpper();
        // destination options in the first fragment, the UDP header only in the second (RFC 7112)
        ByteBuffer frag = ByteBuffer.allocate(8 + 8);
        frag.put((byte) 60).put((byte) 0).putShort((short) 1).putInt(5);
        frag.put(new byte[] {17, 0, 1, 4, 0, 0, 0, 0});
        g.receive(packet(GATEWAY_MAC, GUEST, INTERNET, 64, 44, frag.array()));
        assertEquals(1, g.drops(Drop.FRAGMENT_TINY));
    }

    @Test
    void overlappingFragmentsDropTheWholeDatagram() {
        Guest6 g = new Guest6().withUpper();
        byte[] d = datagram(4000);
        g.receive(fragment(d, 0, 1448, true, 13, 17));
        g.receive(fragment(d, 1440, 1448, true, 13, 17));
        assertEquals(1, g.drops(Drop.FRAGMENT_OVERLAP));
        g.receive(fragment(d, 2888, 1112, false, 13, 17));
        assertEquals(0, g.upper.size());
        assertEquals(1, g.layer.reassembler.inProgress(), "only the tail, which never completes");
        g.now += 31_000_000_000L;
        g.layer.timers(g.now);
        assertEquals(1, g.drops(Drop.FRAGMENT_TIMEOUT));
        assertEquals(0, g.layer.reassembler.inProgress());
    }

    @Test
    void tooLargeAndTableFloodsAreBounded() {
        Guest6 g = new Guest6().withUpper();
        byte[] d = datagram(3000);
        ByteBuffer last = fragment(d, 0, 104, false, 17, 17);
        last.putShort(56, (short) (65528)); // offset 65528 + 104 > 65535
        g.receive(last);
        assertEquals(1, g.drops(Drop.FRAGMENT_TOO_LARGE));
        for (int id = 100; id < 200; id++) {
            g.receive(fragment(d, 0, 1448, true, id, 17));
        }
        assertEquals(16, g.layer.reassembler.inProgress());
        assertEquals(100 - 16, g.drops(Drop.FRAGMENT_EVICTED));
    }

    @Test
    void aFragmentInsideAReassembledPacketIsDropped() {
        Guest6 g = new Guest6().withUpper();
        byte[] innerFragment = new byte[1448 + 200];
        innerFragment[0] = 17;
        innerFragment[3] = 1;
        ByteBuffer inner = ByteBuffer.wrap(innerFragment);
        inner.put(8, udp(GUEST, INTERNET, 1, 2, new byte[1448 + 200 - 16]));
        g.receive(fragment(innerFragment, 0, 1448, true, 21, 44));
        g.receive(fragment(innerFragment, 1448, 200, false, 21, 44));
        assertEquals(0, g.upper.size());
        assertEquals(1, g.drops(Drop.IPV6_EXTENSION_HEADERS));
    }
}

package dev.slipway.networking.stack.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.host.FakeHost;

/**
 * Segments that arrive past a gap: a guest that forwards a container's stream through its bridge
 * and NAT on two CPUs delivers bursts of them out of order. They are held and join the stream once
 * the gap fills, and the acknowledgements say what is held (SACK) and what came twice (D-SACK), so
 * the guest sends again only what is missing.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpOutOfOrderTest {
    private static final byte[] MSS_1460_SACK_OK = {2, 4, 0x05, (byte) 0xb4, 1, 1, 4, 2};
    TcpHarness t;

    @BeforeEach
    void start() {
        t = new TcpHarness(NetConfig.builder().tcpBufferBytes(256 * 1024).build());
    }

    @AfterEach
    void stop() throws Exception {
        t.close();
    }

    /** SYN with MSS 1460 and SACK-permitted, SYN-ACK, ACK. */
    private FakeHost.Stream handshakeWithSack() throws Exception {
        t.guest(Tcp.SYN, t.guestSeq, 0, 65535, new byte[0], MSS_1460_SACK_OK);
        t.guestSeq++;
        TcpHarness.Seg synAck = t.next();
        assertTrue(hasSackPermitted(synAck), "the SYN-ACK takes SACK up when the guest offers it");
        t.ourSeq = synAck.seq() + 1;
        t.guest(Tcp.ACK, new byte[0]);
        return t.host.last();
    }

    private static byte[] stream(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + i / 251);
        }
        return b;
    }

    private static byte[] slice(byte[] b, int from, int n) {
        byte[] s = new byte[n];
        System.arraycopy(b, from, s, 0, n);
        return s;
    }

    private void send(byte[] all, int base, int segment, int i) throws Exception {
        t.guest(Tcp.ACK, base + i * segment, t.ourSeq, 65535, slice(all, i * segment, segment), new byte[0]);
    }

    private List<TcpHarness.Seg> drain() throws InterruptedException {
        List<TcpHarness.Seg> l = new ArrayList<>();
        for (TcpHarness.Seg s; (s = t.nextWithin(50)) != null; ) {
            l.add(s);
        }
        return l;
    }

    private static boolean hasSackPermitted(TcpHarness.Seg s) {
        return option(s, 4) >= 0;
    }

    /** The offset of the first option of {@code kind} in {@code s}, -1 when it has none. */
    private static int option(TcpHarness.Seg s, int kind) {
        byte[] b = s.bytes();
        int end = (b[12] >> 4 & 15) * 4;
        for (int i = 20; i < end; ) {
            int k = b[i] & 0xff;
            if (k == 0) {
                break;
            }
            if (k == 1) {
                i++;
                continue;
            }
            if (k == kind) {
                return i;
            }
            i += b[i + 1] & 0xff;
        }
        return -1;
    }

    /** The SACK blocks of {@code s} as start, end pairs (empty without the option). */
    private static int[] sackBlocks(TcpHarness.Seg s) {
        int at = option(s, 5);
        if (at < 0) {
            return new int[0];
        }
        ByteBuffer b = s.b();
        int n = ((s.bytes()[at + 1] & 0xff) - 2) / 8;
        int[] blocks = new int[2 * n];
        for (int i = 0; i < 2 * n; i++) {
            blocks[i] = b.getInt(at + 2 + 4 * i);
        }
        return blocks;
    }

    @Test
    void aBurstReorderedOnTheGuestsWayArrivesWholeWithoutAnySegmentSentTwice() throws Exception {
        FakeHost.Stream host = handshakeWithSack();
        int segment = 1460;
        byte[] all = stream(40 * segment);
        int base = t.guestSeq;
        // the shape the engine guest's forwarding produced: a later run of segments overtakes the earlier one
        for (int i = 10; i < 40; i++) {
            send(all, base, segment, i);
        }
        assertEquals(0, host.received.size(), "nothing past the gap reaches the host");
        for (int i = 0; i < 10; i++) {
            send(all, base, segment, i);
        }
        assertArrayEquals(all, host.received.toByteArray(), "every byte, once, in order");
        assertEquals(0L, t.stats.drops(Drop.TCP_OUT_OF_ORDER));
        assertEquals(30L, t.tcp.outOfOrderHeld);
        List<TcpHarness.Seg> acks = drain();
        TcpHarness.Seg first = acks.get(0);
        assertEquals(base, first.ack(), "a segment past the gap is acknowledged at once where we stand");
        assertArrayEquals(new int[] {base + 10 * segment, base + 11 * segment}, sackBlocks(first));
        TcpHarness.Seg held = acks.get(29);
        assertArrayEquals(new int[] {base + 10 * segment, base + 40 * segment}, sackBlocks(held));
        TcpHarness.Seg last = acks.get(acks.size() - 1);
        assertEquals(base + 40 * segment, last.ack());
        assertEquals(0, sackBlocks(last).length, "nothing held once the gap filled");
    }

    @Test
    void severalGapsAreReportedMostRecentFirstAndFillInAnyOrder() throws Exception {
        FakeHost.Stream host = handshakeWithSack();
        int segment = 100;
        byte[] all = stream(8 * segment);
        int base = t.guestSeq;
        send(all, base, segment, 2);
        send(all, base, segment, 6);
        send(all, base, segment, 4);
        List<TcpHarness.Seg> acks = drain();
        assertArrayEquals(new int[] {base + 400, base + 500, base + 200, base + 300, base + 600, base + 700},
                sackBlocks(acks.get(acks.size() - 1)));
        send(all, base, segment, 3); // joins 2 and 4
        assertArrayEquals(new int[] {base + 200, base + 500, base + 600, base + 700}, sackBlocks(drain().get(0)));
        send(all, base, segment, 5);
        send(all, base, segment, 7);
        assertEquals(0, host.received.size());
        send(all, base, segment, 1);
        send(all, base, segment, 0);
        assertArrayEquals(all, host.received.toByteArray());
        List<TcpHarness.Seg> end = drain();
        TcpHarness.Seg last = end.get(end.size() - 1);
        assertEquals(base + 800, last.ack());
        assertEquals(0, sackBlocks(last).length);
    }

    @Test
    void aDuplicateIsReportedOnceAsDsack() throws Exception {
        handshakeWithSack();
        int base = t.guestSeq;
        byte[] all = stream(300);
        send(all, base, 100, 0);
        send(all, base, 100, 1);
        drain();
        send(all, base, 100, 0); // the guest's retransmission of a segment that was only late
        TcpHarness.Seg dsack = t.next();
        assertEquals(base + 200, dsack.ack());
        assertArrayEquals(new int[] {base, base + 100}, sackBlocks(dsack));
        send(all, base, 100, 2);
        assertEquals(0, sackBlocks(t.next()).length, "the duplicate is reported once");
    }

    @Test
    void heldBytesWaitBehindQueuedOnesForASlowHost() throws Exception {
        FakeHost.Stream host = handshakeWithSack();
        int segment = 1000;
        byte[] all = stream(12 * segment);
        int base = t.guestSeq;
        host.writeRoom = 500;
        send(all, base, segment, 0); // half taken, half queued
        send(all, base, segment, 1); // queued
        send(all, base, segment, 5); // held past the gap
        send(all, base, segment, 6);
        t.locked(() -> host.drain(700)); // the host takes some: what is queued and held moves up
        send(all, base, segment, 8);
        t.locked(() -> host.drain(100));
        for (int i : new int[] {2, 3, 4, 7}) {
            send(all, base, segment, i);
        }
        t.locked(() -> host.drain(Integer.MAX_VALUE));
        for (int i = 9; i < 12; i++) {
            send(all, base, segment, i);
        }
        assertArrayEquals(all, host.received.toByteArray());
        assertEquals(0L, t.stats.drops(Drop.TCP_OUT_OF_ORDER));
    }

    @Test
    void oneGapTooManyOrBytesPastTheWindowAreDropped() throws Exception {
        FakeHost.Stream host = handshakeWithSack();
        int base = t.guestSeq;
        byte[] all = stream(40 * 100);
        for (int i = 0; i <= HostQueue.MAX_HELD_RANGES; i++) {
            send(all, base, 100, 2 * i + 1);
        }
        assertEquals(1L, t.stats.drops(Drop.TCP_OUT_OF_ORDER), "the ninth separate range is not held");
        t.guest(Tcp.ACK, base + 256 * 1024, t.ourSeq, 65535, new byte[100], new byte[0]);
        assertEquals(2L, t.stats.drops(Drop.TCP_OUT_OF_ORDER), "past the window");
        List<TcpHarness.Seg> acks = drain();
        assertEquals(4, sackBlocks(acks.get(acks.size() - 1)).length / 2, "at most four blocks fit");
        for (int i = 0; i < 40; i++) {
            send(all, base, 100, i);
        }
        assertArrayEquals(all, host.received.toByteArray());
    }

    @Test
    void withoutSackFromTheGuestSegmentsAreHeldAndAcknowledgedPlainly() throws Exception {
        FakeHost.Stream host = t.handshake();
        int base = t.guestSeq;
        byte[] all = stream(300);
        send(all, base, 100, 2);
        send(all, base, 100, 1);
        TcpHarness.Seg ack = t.next();
        assertEquals(base, ack.ack());
        assertEquals(20, (ack.bytes()[12] >> 4 & 15) * 4, "no options when the guest did not offer SACK");
        send(all, base, 100, 0);
        assertArrayEquals(all, host.received.toByteArray());
    }

    @Test
    void heldRangesAcrossTheSequenceNumbersWrap() throws Exception {
        t.guestSeq = -2500; // the stream crosses 2^32 after its 2500th byte
        FakeHost.Stream host = handshakeWithSack();
        int base = t.guestSeq;
        byte[] all = stream(6 * 1000);
        send(all, base, 1000, 4);
        send(all, base, 1000, 2);
        List<TcpHarness.Seg> acks = drain();
        assertArrayEquals(new int[] {base + 2000, base + 3000, base + 4000, base + 5000},
                sackBlocks(acks.get(acks.size() - 1)));
        for (int i : new int[] {1, 3, 5, 0}) {
            send(all, base, 1000, i);
        }
        assertArrayEquals(all, host.received.toByteArray());
    }

    @Test
    void aConnectionWeOpenOffersSack() throws Exception {
        assertTrue(t.locked(() -> t.tcp.openToGuest(null, TcpHarness.REMOTE, TcpHarness.GUEST, 8080)));
        TcpHarness.Seg syn = t.next();
        assertTrue(hasSackPermitted(syn));
        assertEquals(0, (syn.bytes()[12] >> 4 & 15) * 4 % 4);
    }

    @Test
    void heldBytesAndSackGoAlongToTheNextVersionOfTheStack() throws Exception {
        FakeHost.Stream host = handshakeWithSack();
        int segment = 100;
        byte[] all = stream(8 * segment);
        int base = t.guestSeq;
        send(all, base, segment, 0);
        send(all, base, segment, 2);
        send(all, base, segment, 5);
        drain();
        TcpHarness old = t;
        Tcp.HandedOver handed = old.locked(() -> old.tcp.handOver(System.nanoTime()));
        TcpHarness next = new TcpHarness(NetConfig.builder().tcpBufferBytes(256 * 1024).build());
        try {
            List<String> failures = new ArrayList<>();
            assertEquals(1, next.locked(() -> next.tcp.adopt(handed.connections(), failures)));
            next.locked(next.tcp::resumeAdopted);
            assertEquals(List.of(), failures);
            next.guestSeq = old.guestSeq;
            next.ourSeq = old.ourSeq;
            t = next;
            send(all, base, segment, 6); // joins the held 5: the new version still holds what the old one reported
            assertArrayEquals(new int[] {base + 500, base + 700, base + 200, base + 300}, sackBlocks(drain().get(0)));
            send(all, base, segment, 7);
            send(all, base, segment, 3);
            send(all, base, segment, 4);
            assertArrayEquals(slice(all, 0, segment), host.received.toByteArray(), "nothing past the gap at 100 yet");
            send(all, base, segment, 1);
            assertArrayEquals(all, host.received.toByteArray());
            List<TcpHarness.Seg> end = drain();
            assertEquals(base + 800, end.get(end.size() - 1).ack());
        } finally {
            old.close();
        }
    }
}

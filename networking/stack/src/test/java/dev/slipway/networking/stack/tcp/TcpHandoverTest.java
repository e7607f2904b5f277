package dev.slipway.networking.stack.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.host.FakeHost;

/**
 * A guest connection handed from one TCP instance (the outgoing version) to another (the incoming
 * one) against the in-memory host: what each side sent and buffered, the state, the sequence
 * numbers, the window, the timers; a host side that cannot go along; a layout the incoming version
 * does not read; and a hand-over back (the rollback of a failed update).
 */
class TcpHandoverTest {

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Hands every connection of {@code from} to {@code to}, the sequence numbers of the scripted guest with them. */
    private static Tcp.HandedOver handOver(TcpHarness from, TcpHarness to) throws Exception {
        Tcp.HandedOver handed = from.locked(() -> from.tcp.handOver(System.nanoTime()));
        List<String> failures = new ArrayList<>();
        int taken = to.locked(() -> to.tcp.adopt(handed.connections(), failures));
        to.locked(to.tcp::resumeAdopted);
        assertEquals(List.of(), failures);
        assertEquals(handed.connections().size(), taken);
        to.guestSeq = from.guestSeq;
        to.ourSeq = from.ourSeq;
        return handed;
    }

    @Test
    void anEstablishedConnectionGoesOnWithItsBytesInBothDirectionsItsWindowAndItsRetransmission() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness next = new TcpHarness()) {
            // window scale 2 from the guest, so the window handed over is a scaled one
            old.guest(Tcp.SYN, old.guestSeq, 0, 65535, new byte[0], new byte[] {2, 4, 0x05, (byte) 0xb4, 1, 3, 3, 2});
            old.guestSeq++;
            TcpHarness.Seg synAck = old.next();
            old.ourSeq = synAck.seq() + 1;
            old.guest(Tcp.ACK, old.guestSeq, old.ourSeq, 1000, new byte[0], new byte[0]);
            FakeHost.Stream host = old.host.last();
            // the host is slow: the guest's bytes wait in the queue
            host.writeRoom = 0;
            old.guest(Tcp.ACK | Tcp.PSH, ascii("to the host"));
            old.next(); // its acknowledgement
            // the host's bytes go out and are not acknowledged: they wait in the ring
            host.send(ascii("to the guest"));
            TcpHarness.Seg sent = old.next();
            assertArrayEquals(ascii("to the guest"), sent.payload());
            int ourSeqBefore = old.ourSeq;

            Tcp.HandedOver handed = handOver(old, next);
            assertEquals(1, handed.connections().size());
            assertEquals(0, handed.reset());
            Map<String, Object> d = handed.connections().get(0);
            assertEquals(65535L << 2, d.get(TcpHandover.SND_WND), "the guest's last window, 65535 at scale 2");
            assertEquals(2, d.get(TcpHandover.WINDOW_SCALE));
            assertEquals(1460, d.get(TcpHandover.MSS));
            assertTrue((Long) d.get(TcpHandover.DEADLINE_IN) > 0, "the retransmission deadline as a remaining duration");
            assertNull(old.nextWithin(300), "the outgoing version sends nothing, not even a reset");
            assertFalse(host.touchedAfterHandOver, "the outgoing version leaves the host side alone");
            assertEquals(0, old.locked(() -> old.tcp.size()));
            assertEquals(0L, old.locked(() -> old.tcp.buffersInUse()), "its buffers go back");

            assertEquals(TcpState.ESTABLISHED, next.state());
            // the unacknowledged bytes are sent again by the incoming version's retransmission timer
            TcpHarness.Seg again = next.next();
            assertArrayEquals(ascii("to the guest"), again.payload());
            assertEquals(sent.seq(), again.seq());
            assertEquals(ourSeqBefore, next.ourSeq);
            next.ourSeq = again.seq() + again.payload().length;
            next.guest(Tcp.ACK, new byte[0]);
            // the host reads again: the queued bytes reach it through the incoming version
            next.locked(() -> host.drain(Integer.MAX_VALUE));
            assertArrayEquals(ascii("to the host"), host.received.toByteArray());
            // and the connection carries on both ways with the same sequence numbers
            next.guest(Tcp.ACK | Tcp.PSH, ascii(" more"));
            assertArrayEquals(ascii("to the host more"), host.received.toByteArray());
            next.locked(() -> host.send(ascii("!")));
            TcpHarness.Seg more = nextWithPayload(next);
            assertEquals(next.ourSeq, more.seq());
            assertArrayEquals(ascii("!"), more.payload());
        }
    }

    @Test
    void aConnectionToAnAddressBehindAGuestKeepsThatGuestAcrossTheHandOver() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness next = new TcpHarness()) {
            int container = dev.slipway.networking.stack.Ip4.parse("172.17.0.2");
            int guest = dev.slipway.networking.stack.Ip4.parse("192.168.65.3");
            dev.slipway.networking.stack.ip.FlowKey flow = new dev.slipway.networking.stack.ip.FlowKey()
                    .set(container, 80, TcpHarness.REMOTE, 0);
            flow.nextHop4 = guest;
            assertTrue(old.locked(() -> old.tcp.openToGuest(null, flow)));
            TcpHarness.Seg syn = old.next();
            var key = new dev.slipway.networking.stack.ip.FlowKey().set(container, 80, TcpHarness.REMOTE, syn.b().getShort(0) & 0xffff);
            assertEquals(guest, old.locked(() -> old.tcp.connection(key).key.nextHop4));

            Tcp.HandedOver handed = handOver(old, next);
            assertEquals(guest, handed.connections().get(0).get(TcpHandover.NEXT_HOP));
            assertEquals(guest, next.locked(() -> next.tcp.connection(key).key.nextHop4));
            // a description from a version without routed connections has none: the guest address is the guest
            Map<String, Object> older = new java.util.HashMap<>(handed.connections().get(0));
            older.remove(TcpHandover.NEXT_HOP);
            assertEquals(0, TcpHandover.read(next.tcp, older, System.nanoTime()).key.nextHop4);
        }
    }

    @Test
    void bytesThatWrapAroundTheRingGoAlongInOrder() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness next = new TcpHarness()) {
            FakeHost.Stream host = old.handshake();
            byte[] first = new byte[16000];
            byte[] second = new byte[8000];
            new java.util.Random(7).nextBytes(first);
            new java.util.Random(8).nextBytes(second);
            old.locked(() -> host.send(first));
            int sent = 0;
            while (sent < first.length) {
                sent += old.next().payload().length;
            }
            // the guest takes the first 10,000 bytes and closes its window on the rest: the ring's start moves,
            // and the next bytes wrap around its end and stay unsent
            old.guest(Tcp.ACK, old.guestSeq, old.ourSeq + 10_000, 6000, new byte[0], new byte[0]);
            old.locked(() -> host.send(second));
            int unacknowledged = old.ourSeq + 10_000;

            handOver(old, next);
            next.guest(Tcp.ACK, next.guestSeq, unacknowledged, 65535, new byte[0], new byte[0]);
            java.io.ByteArrayOutputStream resent = new java.io.ByteArrayOutputStream();
            resent.write(first, 10_000, first.length - 10_000);
            resent.write(second);
            byte[] expected = resent.toByteArray();
            byte[] got = new byte[expected.length];
            java.util.BitSet filled = new java.util.BitSet(got.length);
            for (int i = 0; i < 200 && filled.cardinality() < got.length; i++) {
                TcpHarness.Seg s = next.next();
                int at = s.seq() - unacknowledged;
                byte[] p = s.payload();
                if (p.length > 0 && at >= 0 && at + p.length <= got.length) {
                    System.arraycopy(p, 0, got, at, p.length);
                    filled.set(at, at + p.length);
                }
            }
            assertArrayEquals(expected, got, "the unacknowledged bytes, in order, from where the guest's acknowledgement left them");
        }
    }

    /** The connections' buffer limit of the harness's default configuration. */
    private static final class NetConfigLimit {
        static final int BYTES = dev.slipway.networking.stack.NetConfig.defaults().tcpBufferBytes();
    }

    private static TcpHarness.Seg nextWithPayload(TcpHarness h) throws InterruptedException {
        for (int i = 0; i < 10; i++) {
            TcpHarness.Seg s = h.next();
            if (s.payload().length > 0) {
                return s;
            }
        }
        throw new AssertionError("no segment with data");
    }

    @Test
    void aClosingConnectionKeepsItsFinStateAcrossTheHandOver() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness next = new TcpHarness()) {
            FakeHost.Stream host = old.handshake();
            old.locked(host::end);
            TcpHarness.Seg fin = old.next();
            assertEquals(Tcp.FIN | Tcp.ACK, fin.flags());
            assertEquals(TcpState.FIN_WAIT_1, old.state());

            handOver(old, next);
            assertEquals(TcpState.FIN_WAIT_1, next.state());
            next.ourSeq = fin.seq() + 1;
            next.guest(Tcp.ACK, new byte[0]);
            assertEquals(TcpState.FIN_WAIT_2, next.state());
            next.guest(Tcp.ACK | Tcp.PSH, ascii("last words"));
            assertArrayEquals(ascii("last words"), host.received.toByteArray());
            next.guest(Tcp.FIN | Tcp.ACK, new byte[0]);
            assertEquals(TcpState.CLOSED, next.state());
            assertTrue(host.outputShut && host.closed && !host.aborted, "an orderly close of the host side");
        }
    }

    @Test
    void aHostSideThatCannotGoAlongIsResetByTheOutgoingVersion() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness next = new TcpHarness()) {
            FakeHost.Stream host = old.handshake();
            host.refuseHandOver = true;
            Tcp.HandedOver handed = handOver(old, next);
            assertEquals(0, handed.connections().size());
            assertEquals(1, handed.reset());
            TcpHarness.Seg rst = old.next();
            assertEquals(Tcp.RST | Tcp.ACK, rst.flags());
            assertEquals(old.ourSeq, rst.seq());
            assertEquals(old.guestSeq, rst.ack());
            assertTrue(host.aborted);
        }
    }

    @Test
    void aVersionThatCannotReadTheLayoutResetsTheGuestFromTheResetRecords() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness next = new TcpHarness()) {
            old.handshake();
            old.guest(Tcp.ACK | Tcp.PSH, ascii("abc"));
            old.next();
            Tcp.HandedOver handed = old.locked(() -> old.tcp.handOver(System.nanoTime()));
            int n = next.locked(() -> next.tcp.resetHandedOver(handed.resetRecords()));
            assertEquals(1, n);
            TcpHarness.Seg rst = next.next();
            assertEquals(Tcp.RST | Tcp.ACK, rst.flags());
            assertEquals(old.ourSeq, rst.seq(), "in the guest's window: it takes the reset");
            assertEquals(old.guestSeq, rst.ack());
            // records that are not one are skipped, the rest still reset
            assertEquals(1, next.locked(() -> next.tcp.resetHandedOver(List.of("junk", new long[] {9}, handed.resetRecords().get(0)))));
        }
    }

    @Test
    void aDescriptionThisVersionCannotTakeIsResetAndTheOthersGoOn() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness next = new TcpHarness()) {
            old.handshake();
            Tcp.HandedOver handed = old.locked(() -> old.tcp.handOver(System.nanoTime()));
            Map<String, Object> broken = new java.util.HashMap<>(handed.connections().get(0));
            broken.put(TcpHandover.STATE, "NO_SUCH_STATE");
            Map<String, Object> oversized = new java.util.HashMap<>(handed.connections().get(0));
            oversized.put(TcpHandover.TO_GUEST, new byte[NetConfigLimit.BYTES + 1]);
            Map<String, Object> noHost = new java.util.HashMap<>(handed.connections().get(0));
            noHost.remove(TcpHandover.HOST);
            Map<String, Object> badFlow = new java.util.HashMap<>(handed.connections().get(0));
            badFlow.put(TcpHandover.FLOW, new long[] {5, 0, 0, 0, 0, 0, 0});
            List<String> failures = new ArrayList<>();
            int taken = next.locked(() -> next.tcp.adopt(List.of(broken, "not a map", oversized, noHost, badFlow), failures));
            assertEquals(0, taken);
            assertEquals(5, failures.size(), failures.toString());
            assertEquals(0, next.locked(() -> next.tcp.size()));
            TcpHarness.Seg rst = next.next();
            assertEquals(Tcp.RST | Tcp.ACK, rst.flags());
        }
    }

    @Test
    void aFailedUpdateGivesTheConnectionBackToTheOutgoingVersion() throws Exception {
        try (TcpHarness old = new TcpHarness(); TcpHarness failing = new TcpHarness(); TcpHarness restarted = new TcpHarness()) {
            FakeHost.Stream host = old.handshake();
            old.guest(Tcp.ACK | Tcp.PSH, ascii("before"));
            old.next();
            Tcp.HandedOver parked = old.locked(() -> old.tcp.handOver(System.nanoTime()));
            // the incoming version takes the state, then fails and hands it back; the state it was given is untouched
            List<String> failures = new ArrayList<>();
            failing.locked(() -> failing.tcp.adopt(parked.connections(), failures));
            failing.locked(failing.tcp::resumeAdopted);
            Tcp.HandedOver back = failing.locked(() -> failing.tcp.handOver(System.nanoTime()));
            assertNull(failing.nextWithin(200), "no reset from the failed version");
            restarted.locked(() -> restarted.tcp.adopt(back.connections(), failures));
            restarted.locked(restarted.tcp::resumeAdopted);
            assertEquals(List.of(), failures);
            restarted.guestSeq = old.guestSeq;
            restarted.ourSeq = old.ourSeq;
            assertEquals(TcpState.ESTABLISHED, restarted.state());
            restarted.guest(Tcp.ACK | Tcp.PSH, ascii(" after"));
            assertArrayEquals(ascii("before after"), host.received.toByteArray());
            restarted.locked(() -> host.send(ascii("ok")));
            TcpHarness.Seg reply = nextWithPayload(restarted);
            assertEquals(old.ourSeq, reply.seq());
        }
    }
}

package dev.slipway.networking.stack.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.host.FakeHost;
import dev.slipway.networking.stack.ip.RecordingOutput;
import dev.slipway.networking.stack.ip.Unreachable;

/** TCP's state machine against an in-memory host: handshakes, data both ways, every close and reset path, timers. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TcpStateMachineTest {
    TcpHarness t;

    @BeforeEach
    void start() {
        t = new TcpHarness(NetConfig.builder().tcpConnectTimeoutMillis(300).tcpBufferBytes(64 * 1024).build());
    }

    @AfterEach
    void stop() throws Exception {
        t.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void handshakeAnnouncesOurMssAndEstablishes() throws Exception {
        t.guest(Tcp.SYN, t.guestSeq, 0, 65535, new byte[0], new byte[] {2, 4, 0x05, (byte) 0xb4, 1, 3, 3, 7});
        TcpHarness.Seg synAck = t.next();
        assertEquals(Tcp.SYN | Tcp.ACK, synAck.flags());
        assertEquals(t.guestSeq + 1, synAck.ack());
        assertEquals(2, synAck.bytes()[20]);
        assertEquals(1460, synAck.b().getShort(22) & 0xffff);
        assertEquals(TcpState.SYN_RECEIVED, t.state());
        t.guestSeq++;
        t.ourSeq = synAck.seq() + 1;
        t.guest(Tcp.ACK, new byte[0]);
        assertEquals(TcpState.ESTABLISHED, t.state());
    }

    @Test
    void theGuestWaitsForTheHostConnection() throws Exception {
        t.host.mode = FakeHost.Mode.CONNECT_LATER;
        t.guest(Tcp.SYN, t.guestSeq, 0, 65535, new byte[0], new byte[0]);
        assertNull(t.nextWithin(100), "no SYN-ACK before the host side is up");
        assertEquals(TcpState.CONNECTING, t.state());
        assertEquals(1, (int) t.locked(t.tcp::halfOpen));
        t.locked(() -> t.host.last().connect());
        assertEquals(Tcp.SYN | Tcp.ACK, t.next().flags());
        assertEquals(0, (int) t.locked(t.tcp::halfOpen));
    }

    @Test
    void aHostThatRefusesMeansAResetAndOneThatCannotBeReachedMeansUnreachable() throws Exception {
        t.host.mode = FakeHost.Mode.CONNECT_LATER;
        t.guest(Tcp.SYN, 500, 0, 65535, new byte[0], new byte[0]);
        t.locked(() -> t.host.last().fail(true));
        TcpHarness.Seg rst = t.next();
        assertEquals(Tcp.RST | Tcp.ACK, rst.flags());
        assertEquals(501, rst.ack());
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(t.host.last().aborted);

        t.guest(Tcp.SYN, 700, 0, 65535, new byte[0], new byte[0]);
        t.locked(() -> t.host.last().fail(false));
        RecordingOutput.Error error = t.out.errors.poll(2, TimeUnit.SECONDS);
        assertNotNull(error);
        assertEquals(Unreachable.HOST, error.why());
        assertEquals(0, (int) t.locked(t.tcp::halfOpen));
    }

    @Test
    void refusalsAtOpenAreResetsOrUnreachable() throws Exception {
        t.host.mode = FakeHost.Mode.REFUSE_BY_POLICY;
        t.guest(Tcp.SYN, 10, 0, 65535, new byte[0], new byte[0]);
        assertEquals(Tcp.RST | Tcp.ACK, t.next().flags());
        t.host.mode = FakeHost.Mode.REFUSE_BY_HOST;
        t.guest(Tcp.SYN, 10, 0, 65535, new byte[0], new byte[0]);
        assertEquals(Tcp.RST | Tcp.ACK, t.next().flags());
        t.host.mode = FakeHost.Mode.UNREACHABLE;
        t.guest(Tcp.SYN, 10, 0, 65535, new byte[0], new byte[0]);
        assertEquals(Unreachable.HOST, t.out.errors.poll(2, TimeUnit.SECONDS).why());
        assertEquals(0, (int) t.locked(t.tcp::size));
    }

    @Test
    void aConnectThatNeverCompletesTimesOut() throws Exception {
        t.host.mode = FakeHost.Mode.CONNECT_LATER;
        t.guest(Tcp.SYN, t.guestSeq, 0, 65535, new byte[0], new byte[0]);
        RecordingOutput.Error error = t.out.errors.poll(3, TimeUnit.SECONDS);
        assertNotNull(error, "ICMP unreachable after the connect timeout");
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(t.host.last().aborted);
    }

    @Test
    void dataFlowsBothWays() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.guest(Tcp.ACK | Tcp.PSH, bytes("hello"));
        assertEquals("hello", host.received.toString(StandardCharsets.US_ASCII));
        TcpHarness.Seg ack = t.next();
        assertEquals(t.guestSeq, ack.ack());

        t.locked(() -> host.send(bytes("world")));
        TcpHarness.Seg data = t.next();
        assertArrayEquals(bytes("world"), data.payload());
        assertEquals(t.ourSeq, data.seq());
        assertEquals(Tcp.ACK | Tcp.PSH, data.flags());
        t.ourSeq += 5;
        t.guest(Tcp.ACK, new byte[0]);
        assertNull(t.nextWithin(500), "acknowledged data is not sent again");
    }

    @Test
    void hostDataLargerThanTheMssGoesInMssSegmentsWithinTheGuestsWindow() throws Exception {
        FakeHost.Stream host = t.handshake();
        byte[] big = new byte[5000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        t.locked(() -> host.send(big));
        int total = 0;
        while (total < big.length) {
            TcpHarness.Seg s = t.next();
            assertTrue(s.payload().length <= 1460, "segment of " + s.payload().length);
            assertEquals(t.ourSeq + total, s.seq());
            total += s.payload().length;
        }
        assertEquals(big.length, total);
    }

    @Test
    void theGuestClosesFirst() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.guest(Tcp.ACK | Tcp.FIN, new byte[0]);
        assertEquals(TcpState.CLOSE_WAIT, t.state());
        assertTrue(host.outputShut, "the guest's FIN reaches the host");
        assertEquals(t.guestSeq, t.next().ack());
        t.locked(host::end);
        TcpHarness.Seg fin = t.next();
        assertEquals(Tcp.FIN | Tcp.ACK, fin.flags());
        assertEquals(TcpState.LAST_ACK, t.state());
        t.ourSeq++;
        t.guest(Tcp.ACK, new byte[0]);
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(host.closed);
        assertFalse(host.aborted);
        assertEquals(1L, t.tcp.closedNormally);
    }

    @Test
    void theHostClosesFirst() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.locked(host::end);
        TcpHarness.Seg fin = t.next();
        assertEquals(Tcp.FIN | Tcp.ACK, fin.flags());
        assertEquals(TcpState.FIN_WAIT_1, t.state());
        t.ourSeq++;
        t.guest(Tcp.ACK, new byte[0]);
        assertEquals(TcpState.FIN_WAIT_2, t.state());
        t.guest(Tcp.ACK | Tcp.PSH, bytes("late"));
        assertEquals("late", host.received.toString(StandardCharsets.US_ASCII), "a half-closed connection still carries the guest's data");
        t.guest(Tcp.ACK | Tcp.FIN, new byte[0]);
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(host.outputShut);
        assertTrue(host.closed);
    }

    @Test
    void bothCloseAtOnce() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.locked(host::end);
        assertEquals(Tcp.FIN | Tcp.ACK, t.next().flags());
        // the guest's FIN crosses ours: it does not acknowledge ours yet
        t.guest(Tcp.ACK | Tcp.FIN, new byte[0]);
        assertEquals(TcpState.CLOSING, t.state());
        t.ourSeq++;
        t.guest(Tcp.ACK, new byte[0]);
        assertEquals(TcpState.CLOSED, t.state());
    }

    @Test
    void aResetFromTheGuestAbortsTheHostSideInEveryState() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.guest(Tcp.RST, new byte[0]);
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(host.aborted);

        t.guestSeq += 100;
        t.guest(Tcp.SYN, t.guestSeq, 0, 65535, new byte[0], new byte[0]);
        t.guestSeq++;
        assertEquals(TcpState.SYN_RECEIVED, t.state());
        t.guest(Tcp.RST, t.guestSeq, 0, 0, new byte[0], new byte[0]);
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(t.host.last().aborted);

        host = handshakeAgain();
        t.guest(Tcp.ACK | Tcp.FIN, new byte[0]);
        assertEquals(TcpState.CLOSE_WAIT, t.state());
        t.guest(Tcp.RST, new byte[0]);
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(host.aborted);
        assertEquals(3L, t.tcp.resetByGuest);
    }

    private FakeHost.Stream handshakeAgain() throws Exception {
        t.out.sent.clear();
        t.guestSeq += 1000;
        return t.handshake();
    }

    @Test
    void aHostErrorResetsTheGuest() throws Exception {
        FakeHost.Stream host = t.handshake();
        host.failReads = true;
        t.locked(() -> host.send(bytes("x")));
        TcpHarness.Seg rst = t.next();
        assertEquals(Tcp.RST | Tcp.ACK, rst.flags());
        assertEquals(TcpState.CLOSED, t.state());
        assertTrue(host.aborted);
    }

    @Test
    void aSegmentWithoutAConnectionIsReset() throws Exception {
        t.guest(Tcp.ACK, 77, 1234, 65535, new byte[0], new byte[0]);
        TcpHarness.Seg rst = t.next();
        assertEquals(Tcp.RST, rst.flags());
        assertEquals(1234, rst.seq());
        assertEquals(1L, t.stats.drops(Drop.TCP_NO_CONNECTION));
        t.guest(Tcp.RST, 77, 0, 0, new byte[0], new byte[0]);
        assertNull(t.nextWithin(100), "a reset is never answered");
    }

    @Test
    void unacknowledgedDataIsRetransmitted() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.locked(() -> host.send(bytes("again")));
        TcpHarness.Seg first = t.next();
        TcpHarness.Seg second = t.next();
        assertEquals(first.seq(), second.seq());
        assertArrayEquals(bytes("again"), second.payload());
        assertTrue(t.tcp.retransmits >= 1);
        t.ourSeq += 5;
        t.guest(Tcp.ACK, new byte[0]);
        t.out.sent.clear();
        assertNull(t.nextWithin(700), "no retransmission after the acknowledgement");
    }

    @Test
    void theSynAckIsRetransmittedUntilTheGuestAcknowledges() throws Exception {
        t.guest(Tcp.SYN, t.guestSeq, 0, 65535, new byte[0], new byte[0]);
        TcpHarness.Seg synAck = t.next();
        TcpHarness.Seg again = t.next();
        assertEquals(Tcp.SYN | Tcp.ACK, again.flags());
        assertEquals(synAck.seq(), again.seq());
    }

    @Test
    void threeDuplicateAcksRetransmitAtOnce() throws Exception {
        FakeHost.Stream host = t.handshake();
        byte[] data = new byte[3 * 1460];
        t.locked(() -> host.send(data));
        for (int i = 0; i < 3; i++) {
            t.next();
        }
        for (int i = 0; i < 3; i++) {
            t.guest(Tcp.ACK, new byte[0]);
        }
        // the third duplicate rewinds; the next send (here: the acknowledgement of new data) goes from the first unacknowledged byte
        t.guest(Tcp.ACK | Tcp.PSH, bytes("x"));
        TcpHarness.Seg resent = t.next();
        while (resent.payload().length == 0) {
            resent = t.next();
        }
        assertEquals(t.ourSeq, resent.seq());
    }

    @Test
    void aZeroWindowStopsDataAndIsProbed() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.guest(Tcp.ACK, t.guestSeq, t.ourSeq, 0, new byte[0], new byte[0]);
        t.locked(() -> host.send(bytes("probe me")));
        TcpHarness.Seg probe = t.next();
        assertEquals(1, probe.payload().length, "only a one-byte probe past a zero window");
        assertEquals(t.ourSeq, probe.seq());
        t.guest(Tcp.ACK, t.guestSeq, t.ourSeq, 65535, new byte[0], new byte[0]);
        TcpHarness.Seg rest = t.next();
        assertTrue(rest.payload().length >= 7);
    }

    @Test
    void outOfOrderDataIsHeldAndAcknowledgedWhereTheGuestStands() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.guest(Tcp.ACK | Tcp.PSH, t.guestSeq + 3, t.ourSeq, 65535, bytes("def"), new byte[0]);
        assertEquals(0L, t.stats.drops(Drop.TCP_OUT_OF_ORDER));
        assertEquals(t.guestSeq, t.next().ack());
        assertEquals(0, host.received.size());
        // the gap fills: both go on; a retransmission overlapping what was taken: only the new bytes go on
        t.guest(Tcp.ACK | Tcp.PSH, bytes("abc"));
        assertEquals(t.guestSeq + 3, t.next().ack());
        t.guestSeq += 3;
        t.guest(Tcp.ACK | Tcp.PSH, t.guestSeq - 3, t.ourSeq, 65535, bytes("defghi"), new byte[0]);
        assertEquals("abcdefghi", host.received.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void aSlowHostClosesTheWindowAndWritableReopensIt() throws Exception {
        FakeHost.Stream host = t.handshake();
        host.writeRoom = 0;
        byte[] chunk = new byte[1000];
        t.guest(Tcp.ACK | Tcp.PSH, chunk);
        TcpHarness.Seg ack = t.next();
        assertEquals(t.guestSeq, ack.ack(), "queued bytes are acknowledged");
        assertTrue(host.writeInterest, "the connection waits for the host to take more");
        int windowWhileQueued = ack.window();
        t.locked(() -> host.drain(Integer.MAX_VALUE));
        assertEquals(1000, host.received.size());
        TcpHarness.Seg update = t.next();
        assertTrue(update.window() > windowWhileQueued, "the window opens once the host took the bytes");
    }

    @Test
    void theGuestCannotOverrunItsWindow() throws Exception {
        FakeHost.Stream host = t.handshake();
        host.writeRoom = 0;
        byte[] chunk = new byte[1400];
        for (int i = 0; i < 47; i++) {
            t.guest(Tcp.ACK | Tcp.PSH, chunk);
        }
        assertTrue(t.stats.drops(Drop.TCP_WINDOW_FULL) > 0);
        TcpHarness.Seg last = null;
        for (TcpHarness.Seg s; (s = t.nextWithin(100)) != null; ) {
            last = s;
        }
        assertNotNull(last);
        assertEquals(0, last.window(), "the window is closed while the queue is full");
    }

    @Test
    void aConnectionWeOpenCompletesOnTheGuestsSynAck() throws Exception {
        assertTrue(t.locked(() -> t.tcp.openToGuest(null, TcpHarness.REMOTE, TcpHarness.GUEST, 8080)));
        TcpHarness.Seg syn = t.next();
        assertEquals(Tcp.SYN, syn.flags());
        int ourPort = syn.b().getShort(0) & 0xffff;
        var key = new dev.slipway.networking.stack.ip.FlowKey().set(TcpHarness.GUEST, 8080, TcpHarness.REMOTE, ourPort);
        assertEquals(TcpState.SYN_SENT, t.locked(() -> t.tcp.connection(key).state));
        TcpHarness.Seg synAck = guestAnswers(ourPort, Tcp.SYN | Tcp.ACK, 5000, syn.seq() + 1);
        assertEquals(Tcp.ACK, synAck.flags());
        assertEquals(5001, synAck.ack());
        assertEquals(TcpState.ESTABLISHED, t.locked(() -> t.tcp.connection(key).state));
    }

    @Test
    void aGuestResetRefusesAConnectionWeOpen() throws Exception {
        t.lastActivePort = 8081;
        assertTrue(t.locked(() -> t.tcp.openToGuest(null, TcpHarness.REMOTE, TcpHarness.GUEST, 8081)));
        TcpHarness.Seg syn = t.next();
        int ourPort = syn.b().getShort(0) & 0xffff;
        guestAnswersQuietly(ourPort, Tcp.RST | Tcp.ACK, 0, syn.seq() + 1);
        assertEquals(1L, t.tcp.refusedByGuest);
        assertTrue(t.host.last().aborted);
        assertEquals(0, (int) t.locked(t.tcp::size));
    }

    private TcpHarness.Seg guestAnswers(int ourPort, int flags, int seq, int ack) throws Exception {
        guestAnswersQuietly(ourPort, flags, seq, ack);
        return t.next();
    }

    private void guestAnswersQuietly(int ourPort, int flags, int seq, int ack) throws Exception {
        t.guestFrom(flags, seq, ack, ourPort);
    }

    @Test
    void dataTheFullLinkDidNotTakeGoesWhenItDrainsWithoutCountingAsALoss() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.out.linkFull = true;
        t.locked(() -> host.send(bytes("held back")));
        Thread.sleep(50);
        assertTrue(t.out.sent.isEmpty());
        t.out.linkFull = false;
        TcpHarness.Seg data = t.next();
        assertArrayEquals(bytes("held back"), data.payload());
        assertEquals(t.ourSeq, data.seq());
        assertEquals(0L, t.tcp.retransmits, "waiting for the link is not a retransmission");
    }

    @Test
    void aResetTheFullLinkDidNotTakeIsSentWhenItDrains() throws Exception {
        FakeHost.Stream host = t.handshake();
        host.failReads = true;
        t.out.linkFull = true;
        t.locked(() -> host.send(bytes("x")));
        assertEquals(TcpState.CLOSED, t.state(), "the connection is gone at once");
        Thread.sleep(50);
        t.out.linkFull = false;
        TcpHarness.Seg rst = t.next();
        assertEquals(Tcp.RST | Tcp.ACK, rst.flags());
        assertEquals(t.ourSeq, rst.seq());
        assertEquals(0, (int) t.locked(t.tcp.sender::pendingResets));
    }

    @Test
    void theFinWaitsForTheLinkToo() throws Exception {
        FakeHost.Stream host = t.handshake();
        t.out.linkFull = true;
        t.locked(host::end);
        assertEquals(TcpState.ESTABLISHED, t.state(), "no FIN out yet");
        t.out.linkFull = false;
        assertEquals(Tcp.FIN | Tcp.ACK, t.next().flags());
        assertEquals(TcpState.FIN_WAIT_1, t.state());
    }
}

package dev.slipway.networking.stack.icmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.Ip4;

class EchoRelayTest {
    static final int GATEWAY = Ip4.parse("192.168.65.1");
    static final int GUEST = Ip4.parse("192.168.65.3");
    static final int FAR = Ip4.parse("10.77.0.2");
    static final int ROUTER = Ip4.parse("10.76.0.2");
    static final long V6_GUEST_HI = 0xfd00_1234_0000_0000L;
    static final long V6_GUEST_LO = 3;
    static final long V6_FAR_HI = 0x2001_0db8_0000_0000L;
    static final long V6_FAR_LO = 2;
    static final long SECOND = 1_000_000_000L;

    final FakePingSockets sockets = new FakePingSockets();
    final Recorder output = new Recorder();

    EchoRelay relay(int maxFlows) {
        EchoRelay r = new EchoRelay(sockets, null, output, CidrList.cloudMetadata(), GATEWAY, maxFlows, 30 * SECOND, 0);
        r.gateway6(0xfd00_1234_0000_0000L, 1);
        return r;
    }

    /** An ICMP echo request (checksum right) inside a buffer at offset 34, as an IP layer hands it over. */
    static ByteBuffer request(boolean v6, int id, int seq, String data) {
        byte[] d = data.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocateDirect(34 + 8 + d.length);
        b.put(34, (byte) (v6 ? 128 : 8));
        b.putShort(38, (short) id).putShort(40, (short) seq);
        b.put(42, d);
        b.putShort(36, (short) Checksum.compute(b, 34, 8 + d.length));
        return b;
    }

    static boolean echo4(EchoRelay r, int id, int seq, int dst, int ttl, long now) {
        ByteBuffer b = request(false, id, seq, "abcdefgh");
        return r.echo4(b, 34, b.capacity() - 34, GUEST, dst, ttl, now);
    }

    @Test
    void repliesReachTheGuestWithItsIdentifierAndSequence() {
        EchoRelay r = relay(8);
        assertTrue(echo4(r, 0x1234, 7, FAR, 64, SECOND));
        FakePingSockets.Socket s = sockets.last();
        assertEquals(63, s.ttl, "one hop taken by the gateway");
        assertEquals(FAR & 0xffff_ffffL, s.destinations.get(0)[1]);
        s.reply(0, FAR & 0xffff_ffffL);
        r.ready(2 * SECOND);
        assertEquals(1, output.sent.size());
        Sent reply = output.sent.get(0);
        assertEquals(FAR, (int) reply.fromLo);
        assertEquals(GUEST, (int) reply.toLo);
        ByteBuffer m = reply.message;
        assertEquals(0, m.get(0), "echo reply");
        assertEquals(0x1234, m.getShort(4) & 0xffff, "the guest's identifier, not the kernel's");
        assertEquals(7, m.getShort(6));
        assertEquals("abcdefgh", new String(reply.bytes(8), StandardCharsets.US_ASCII));
        assertEquals(0, m.getShort(2), "the checksum is the output's to fill");
        assertEquals(1L, r.status().get("replies"));
    }

    @Test
    void oneFlowPerIdentifierAndDestination() {
        EchoRelay r = relay(8);
        echo4(r, 1, 1, FAR, 64, 0);
        echo4(r, 1, 2, FAR, 64, 0);
        echo4(r, 2, 1, FAR, 64, 0);
        echo4(r, 1, 3, ROUTER, 64, 0);
        assertEquals(3, sockets.opened);
        assertEquals(2, sockets.sockets.get(0).sent.size());
        sockets.sockets.get(1).reply(0, FAR);
        sockets.sockets.get(0).reply(0, FAR);
        r.ready(0);
        assertEquals(2, output.sent.size());
        assertEquals(1, output.sent.get(0).message.getShort(4), "each reply carries its own flow's identifier");
        assertEquals(2, output.sent.get(0).message.getShort(6));
        assertEquals(2, output.sent.get(1).message.getShort(4));
    }

    @Test
    void timeExceededIsRelayedFromTheRouterQuotingTheGuestsRequest() {
        EchoRelay r = relay(8);
        echo4(r, 0x4321, 9, FAR, 2, 0);
        FakePingSockets.Socket s = sockets.last();
        assertEquals(1, s.ttl);
        s.error(PingReceipt.ORIGIN_ICMP, 11, 0, 0, ROUTER & 0xffff_ffffL);
        r.ready(0);
        Sent e = output.sent.get(0);
        assertEquals(ROUTER, (int) e.fromLo);
        assertEquals(GUEST, (int) e.toLo);
        ByteBuffer m = e.message;
        assertEquals(11, m.get(0));
        assertEquals(0, m.get(1));
        assertEquals(0x45, m.get(8) & 0xff);
        assertEquals(0, Checksum.compute(m, 8, 20), "the quoted IP header's checksum holds");
        assertEquals(1, m.get(17), "ICMP");
        assertEquals(GUEST, m.getInt(20));
        assertEquals(FAR, m.getInt(24));
        assertEquals(8, m.get(28), "the quoted echo request");
        assertEquals(0x4321, m.getShort(32) & 0xffff);
        assertEquals(9, m.getShort(34));
        ByteBuffer original = request(false, 0x4321, 9, "abcdefgh");
        assertEquals(original.getShort(36), m.getShort(30), "the quoted checksum is the guest's again");
        assertEquals(36, e.length);
        assertEquals(1L, r.status().get("errorsRelayed"));
    }

    @Test
    void unreachableFromAfarIsRelayedAndLocalRouteFailuresAnsweredByTheGateway() {
        EchoRelay r = relay(8);
        echo4(r, 5, 1, FAR, 64, 0);
        sockets.last().error(PingReceipt.ORIGIN_ICMP, 3, 1, 0, ROUTER);
        r.ready(0);
        assertEquals(3, output.sent.get(0).message.get(0));
        assertEquals(1, output.sent.get(0).message.get(1));
        assertEquals(ROUTER, (int) output.sent.get(0).fromLo);

        sockets.last().sendResult = -PingReceipt.EHOSTUNREACH;
        echo4(r, 5, 2, FAR, 64, 0);
        Sent local = output.sent.get(1);
        assertEquals(GATEWAY, (int) local.fromLo);
        assertEquals(3, local.message.get(0));
        assertEquals(1, local.message.get(1), "host unreachable");
        assertEquals(2, local.message.getShort(34), "quoting the request's sequence");
    }

    @Test
    void errorsItDoesNotKnowAndMalformedRepliesAreIgnored() {
        EchoRelay r = relay(8);
        echo4(r, 5, 1, FAR, 64, 0);
        FakePingSockets.Socket s = sockets.last();
        s.error(PingReceipt.ORIGIN_ICMP, 5, 0, 0, ROUTER); // a redirect
        s.error(1, 0, 0, 0, 0); // a local error
        s.queueReply(new byte[] {0, 0, 0}, 0, FAR); // shorter than an ICMP header
        s.queueReply(new byte[] {8, 0, 0, 0, 0, 1, 0, 1}, 0, FAR); // not a reply
        r.ready(0);
        assertTrue(output.sent.isEmpty());
        assertEquals(4L, r.status().get("ignored"));
    }

    @Test
    void theFlowLimitHoldsAndIdleFlowsClose() {
        EchoRelay r = relay(2);
        assertTrue(echo4(r, 1, 1, FAR, 64, 0));
        assertTrue(echo4(r, 2, 1, FAR, 64, 0));
        assertTrue(echo4(r, 3, 1, FAR, 64, 0), "taken, and dropped");
        assertEquals(2, sockets.opened);
        assertEquals(1L, r.status().get("flowLimitDrops"));
        echo4(r, 2, 2, FAR, 64, 20 * SECOND);
        r.expire(31 * SECOND);
        assertEquals(1, r.flows());
        assertTrue(sockets.sockets.get(0).closed);
        assertFalse(sockets.sockets.get(1).closed);
        echo4(r, 3, 1, FAR, 64, 31 * SECOND);
        assertEquals(3, sockets.opened);
        // a socket's late readiness after it closed finds nothing
        sockets.sockets.get(0).closed = false;
        sockets.sockets.get(0).reply(0, FAR);
        sockets.sockets.get(0).closed = true;
        r.ready(32 * SECOND);
        assertTrue(output.sent.isEmpty());
        r.close();
        assertTrue(sockets.sockets.stream().allMatch(s -> s.closed));
    }

    @Test
    void aNewFlowAsksForExpiryAndExpireNamesTheNextDeadline() {
        EchoRelay r = relay(8);
        List<Long> asked = new ArrayList<>();
        r.expiryWanted(asked::add);
        echo4(r, 1, 1, FAR, 64, SECOND);
        echo4(r, 1, 2, FAR, 64, 2 * SECOND);
        assertEquals(List.of(31 * SECOND + 1), asked, "once per new flow, from its opening");
        echo4(r, 2, 1, FAR, 64, 10 * SECOND);
        assertEquals(32 * SECOND + 1, r.expire(31 * SECOND + 1), "the first flow was active at 2 s");
        assertEquals(40 * SECOND + 1, r.expire(32 * SECOND + 2));
        assertEquals(Long.MAX_VALUE, r.expire(41 * SECOND), "no flow left");
        assertEquals(0, r.flows());
    }

    @Test
    void refusedDestinationsGetProhibitedAndNoSocket() {
        EchoRelay r = relay(8);
        assertTrue(echo4(r, 1, 1, Ip4.parse("169.254.169.254"), 64, 0));
        assertTrue(echo4(r, 1, 1, Ip4.parse("168.63.129.16"), 64, 0));
        assertEquals(0, sockets.opened);
        assertEquals(2, output.sent.size());
        assertEquals(3, output.sent.get(0).message.get(0));
        assertEquals(13, output.sent.get(0).message.get(1), "administratively prohibited");
        assertEquals(GATEWAY, (int) output.sent.get(0).fromLo);
        assertEquals(2L, r.status().get("refused"));
    }

    @Test
    void loopbackMulticastBroadcastAndUnspecifiedAreNeverSent() {
        EchoRelay r = relay(8);
        for (String a : List.of("127.0.0.1", "127.9.9.9", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.1.1.1", "255.255.255.255", "240.0.0.1")) {
            assertTrue(echo4(r, 1, 1, Ip4.parse(a), 64, 0), a);
        }
        assertEquals(0, sockets.opened, "no socket opened");
        assertEquals(8L, r.status().get("invalidDestinations"));
        assertFalse(EchoRelay.relayable(true, 0, 1));
        assertFalse(EchoRelay.relayable(true, 0, 0));
        assertFalse(EchoRelay.relayable(true, 0xff02_0000_0000_0000L, 1));
        assertFalse(EchoRelay.relayable(true, 0xfe80_0000_0000_0000L, 1));
        assertFalse(EchoRelay.relayable(true, 0, 0xffff_0a00_0001L));
        assertTrue(EchoRelay.relayable(true, V6_FAR_HI, V6_FAR_LO));
    }

    @Test
    void aRequestThatIsNoEchoRequestIsNotSent() {
        EchoRelay r = relay(8);
        ByteBuffer b = request(false, 1, 1, "x");
        b.put(34, (byte) 13);
        assertTrue(r.echo4(b, 34, b.capacity() - 34, GUEST, FAR, 64, 0));
        assertTrue(r.echo4(b, 34, 4, GUEST, FAR, 64, 0));
        assertEquals(0, sockets.opened);
    }

    @Test
    void forbiddenPingSocketsAreSaidOnceAndTheRelayDeclines() {
        sockets.forbidden = true;
        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EchoRelay r;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
        try {
            r = relay(8);
            assertFalse(echo4(r, 1, 1, FAR, 64, SECOND), "declined: the IP layer answers as before");
            assertFalse(echo4(r, 1, 2, FAR, 64, 2 * SECOND));
            assertEquals(1, sockets.openAttempts, "no retry within a minute of the refusal");
            assertFalse(echo4(r, 1, 3, FAR, 64, 70 * SECOND));
            assertEquals(2, sockets.openAttempts, "checked again after a minute");
        } finally {
            System.setErr(err);
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.split("ping_group_range", -1).length - 1, text);
        assertTrue(String.valueOf(r.status().get("echo")).startsWith("gateway and host alias only: the host forbids unprivileged ping sockets"),
                String.valueOf(r.status()));
        sockets.forbidden = false;
        assertTrue(echo4(r, 1, 4, FAR, 64, 140 * SECOND), "allowed again");
        assertEquals("any destination", r.status().get("echo"));
    }

    @Test
    void withoutPingSocketsTheRelayDeclinesAndSaysWhy() {
        EchoRelay r = new EchoRelay(null, "ping sockets need the Linux native calls", output, CidrList.cloudMetadata(), GATEWAY, 8,
                SECOND, 0);
        assertFalse(echo4(r, 1, 1, FAR, 64, 0));
        assertEquals("gateway and host alias only: ping sockets need the Linux native calls", r.status().get("echo"));
    }

    @Test
    void ipv6RepliesAndErrorsKeepTheGuestsIdentifier() {
        EchoRelay r = relay(8);
        ByteBuffer b = request(true, 0x0606, 3, "v6 data!");
        assertTrue(r.echo6(b, 34, b.capacity() - 34, V6_GUEST_HI, V6_GUEST_LO, V6_FAR_HI, V6_FAR_LO, 64, 0));
        FakePingSockets.Socket s = sockets.last();
        assertTrue(s.v6);
        assertEquals(V6_FAR_HI, s.destinations.get(0)[0]);
        s.reply(V6_FAR_HI, V6_FAR_LO);
        s.error(PingReceipt.ORIGIN_ICMP6, 3, 0, V6_FAR_HI, 0x99);
        r.ready(0);
        Sent reply = output.sent.get(0);
        assertTrue(reply.v6);
        assertEquals(129, reply.message.get(0) & 0xff);
        assertEquals(0x0606, reply.message.getShort(4));
        assertEquals(3, reply.message.getShort(6));
        assertEquals(V6_GUEST_LO, reply.toLo);
        Sent error = output.sent.get(1);
        assertEquals(3, error.message.get(0), "time exceeded");
        assertEquals(0x99, error.fromLo);
        assertEquals(6, (error.message.get(8) & 0xff) >> 4);
        assertEquals(58, error.message.get(14));
        assertEquals(V6_GUEST_HI, error.message.getLong(16));
        assertEquals(V6_FAR_LO, error.message.getLong(40));
        assertEquals(0x0606, error.message.getShort(48 + 4));
        assertEquals(48 + 16, error.length, "the whole request quoted");

        ByteBuffer metadata = request(true, 1, 1, "m");
        assertTrue(r.echo6(metadata, 34, metadata.capacity() - 34, V6_GUEST_HI, V6_GUEST_LO, 0xfd00_0ec2_0000_0000L, 0x254, 64, 0));
        Sent refused = output.sent.get(2);
        assertEquals(1, refused.message.get(0));
        assertEquals(1, refused.message.get(1), "administratively prohibited");
        assertEquals(1, refused.fromLo, "from the gateway's IPv6 address");
    }

    @Test
    void aReplyThatArrivesDuringAnUpdateIsRelayedByTheNextVersionThroughTheSameSocket() {
        EchoRelay old = relay(8);
        echo4(old, 0x1234, 1, FAR, 64, SECOND);
        FakePingSockets.Socket socket = sockets.last();
        List<long[]> handed = old.handOver(2 * SECOND);
        assertEquals(1, handed.size());
        assertEquals(0, old.flows());
        old.close();
        assertFalse(socket.closed, "the socket stays open for the next version");
        socket.reply(0, FAR & 0xffff_ffffL); // on its way during the update

        FakePingSockets nextSockets = new FakePingSockets();
        nextSockets.previous = sockets;
        EchoRelay next = new EchoRelay(nextSockets, null, output, CidrList.cloudMetadata(), GATEWAY, 8, 30 * SECOND, 0);
        List<String> failures = new ArrayList<>();
        assertEquals(1, next.adopt(handed, 3 * SECOND, nextSockets.closedByDescriptor::add, failures));
        assertEquals(List.of(), failures);
        next.ready(3 * SECOND);
        assertEquals(1, output.sent.size(), "the reply that waited in the socket");
        assertEquals(0x1234, output.sent.get(0).message.getShort(4) & 0xffff, "with the guest's identifier");

        echo4(next, 0x1234, 2, FAR, 64, 4 * SECOND);
        assertEquals(0, nextSockets.opened, "the same flow: no new socket");
        assertEquals(2, socket.sent.size());
        assertEquals(63, socket.ttl);
        assertEquals(1, next.flows());
        assertEquals(Long.MAX_VALUE, next.expire(40 * SECOND), "idle time went along: expired 30 s after the last use");
        assertTrue(socket.closed);
    }

    @Test
    void flowsTheNextVersionCannotTakeAreClosedAndNamed() {
        EchoRelay old = relay(8);
        echo4(old, 1, 1, FAR, 64, SECOND);
        echo4(old, 2, 1, FAR, 64, SECOND);
        List<long[]> handed = new ArrayList<>(old.handOver(2 * SECOND));
        handed.add(new long[] {0, 1, 2});
        FakePingSockets nextSockets = new FakePingSockets();
        nextSockets.previous = sockets;
        EchoRelay next = new EchoRelay(nextSockets, null, output, CidrList.cloudMetadata(), GATEWAY, 1, 30 * SECOND, 0);
        List<String> failures = new ArrayList<>();
        assertEquals(1, next.adopt(handed, 3 * SECOND, nextSockets.closedByDescriptor::add, failures));
        assertEquals(2, failures.size(), failures.toString());
        assertTrue(failures.get(0).contains("the flow table is full"), failures.toString());
        assertTrue(failures.get(1).contains("not one"), failures.toString());
        assertEquals(List.of((int) handed.get(1)[6]), nextSockets.closedByDescriptor, "the socket nobody took is closed");
    }

    record Sent(boolean v6, long fromHi, long fromLo, long toHi, long toLo, ByteBuffer message, int length) {
        byte[] bytes(int from) {
            byte[] b = new byte[length - from];
            message.get(from, b);
            return b;
        }
    }

    static final class Recorder implements IcmpOutput {
        final List<Sent> sent = new ArrayList<>();

        @Override
        public void icmp4(int from, int to, ByteBuffer message, int length) {
            sent.add(new Sent(false, 0, from, 0, to, copy(message, length), length));
        }

        @Override
        public void icmp6(long fromHi, long fromLo, long toHi, long toLo, ByteBuffer message, int length) {
            sent.add(new Sent(true, fromHi, fromLo, toHi, toLo, copy(message, length), length));
        }

        private static ByteBuffer copy(ByteBuffer m, int length) {
            ByteBuffer c = ByteBuffer.allocate(length);
            c.put(0, m, 0, length);
            return c;
        }
    }
}

package dev.slipway.networking.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.host.HostEndpoints;
import dev.slipway.networking.stack.tcp.Tcp;
import dev.slipway.networking.stack.tcp.TcpHandover;
import dev.slipway.networking.stack.transport.LinkHandover;
import dev.slipway.networking.stack.udp.Udp;

/**
 * The whole stack handed from one instance to the next, as a live update does, with real host
 * sockets on loopback and a scripted guest on an in-memory link: a TCP connection and a UDP flow
 * go on through the same host sockets, frames sent while neither instance had the link are held
 * and passed on, DNS to the gateway is answered throughout; a layout the next version does not
 * read resets the guest's connections at once and new ones work; a failed update hands back.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FlowHandoverTest {
    private static final int SPORT = 41000;
    private static final int UDP_SPORT = 5300;

    private final List<NetStack> stacks = new ArrayList<>();
    private MemoryTransport link;
    private MiniGuest guest;
    private LoopbackEchoes echoes;
    /** The guest's next sequence number, and the next byte it expects. */
    private int seq;
    private int theirs;

    @BeforeEach
    void start() throws Exception {
        echoes = new LoopbackEchoes("flow-handover");
        link = new MemoryTransport();
        NetStack first = stack();
        first.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
    }

    /** The query id the DNS stub answers only when the test says so, as a forwarded name is answered later. */
    private static final int SLOW_QUERY = 0x5151;
    private final LinkedBlockingQueue<Runnable> slowAnswers = new LinkedBlockingQueue<>();

    private NetStack stack() {
        NetStack s = new NetStack(NetConfig.defaults());
        s.dns((query, client, tcp, reply) -> {
            ByteBuffer answer = ByteBuffer.allocate(query.remaining());
            answer.put(query.duplicate()).flip();
            answer.put(2, (byte) 0x81);
            if ((answer.getShort(0) & 0xffff) == SLOW_QUERY) {
                slowAnswers.add(() -> reply.send(answer));
            } else {
                reply.send(answer);
            }
        });
        stacks.add(s);
        return s;
    }

    @AfterEach
    void stop() throws IOException {
        for (NetStack s : stacks) {
            s.close();
        }
        echoes.close();
    }

    private void connect() throws Exception {
        seq = 1000;
        guest.send(Frames.HOST_ALIAS, SPORT, echoes.tcpPort(), seq, 0, Tcp.SYN, new byte[] {2, 4, 0x05, (byte) 0xb4}, new byte[0]);
        ByteBuffer synAck = guest.await(f -> MiniGuest.isTcp(f, echoes.tcpPort()) && (f.get(47) & 0x12) == 0x12, 5000);
        assertNotNull(synAck, "no SYN-ACK");
        theirs = synAck.getInt(38) + 1;
        seq++;
        guest.send(Frames.HOST_ALIAS, SPORT, echoes.tcpPort(), seq, theirs, Tcp.ACK, new byte[0], new byte[0]);
    }

    /** Sends {@code text} on the connection (without waiting). */
    private void send(String text) throws Exception {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        guest.send(Frames.HOST_ALIAS, SPORT, echoes.tcpPort(), seq, theirs, Tcp.ACK | Tcp.PSH, new byte[0], data);
        seq += data.length;
    }

    /** Reads {@code expected} from the connection, in order, acknowledging it. */
    private void expectEcho(String expected) throws Exception {
        StringBuilder got = new StringBuilder();
        int port = echoes.tcpPort();
        while (got.length() < expected.length()) {
            ByteBuffer f = guest.await(x -> MiniGuest.isTcp(x, port) && MiniGuest.payloadLength(x) > 0, 5000);
            assertNotNull(f, "no echo; got so far: " + got);
            int n = MiniGuest.payloadLength(f);
            int off = 34 + (f.get(46) >> 4 & 15) * 4;
            byte[] b = new byte[n];
            f.get(off, b);
            if (f.getInt(38) == theirs) {
                got.append(new String(b, StandardCharsets.US_ASCII));
                theirs += n;
            }
            guest.send(Frames.HOST_ALIAS, SPORT, port, seq, theirs, Tcp.ACK, new byte[0], new byte[0]);
        }
        assertEquals(expected, got.toString());
    }

    private void udpExchange(String text) throws Exception {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.HOST_ALIAS,
                Frames.udp(Frames.GUEST, Frames.HOST_ALIAS, UDP_SPORT, echoes.udpPort(), data), 64, 11, 0));
        ByteBuffer reply = guest.await(f -> f.limit() > 42 && f.get(23) == 17 && (f.getShort(34) & 0xffff) == echoes.udpPort(), 5000);
        assertNotNull(reply, "no UDP echo of " + text);
        byte[] b = new byte[data.length];
        reply.get(42, b);
        assertEquals(text, new String(b, StandardCharsets.US_ASCII));
    }

    private void dnsQuery(int id) throws Exception {
        askDns(id);
        awaitDnsAnswer(id);
    }

    private void askDns(int id) {
        byte[] q = {(byte) (id >> 8), (byte) id, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.GATEWAY,
                Frames.udp(Frames.GUEST, Frames.GATEWAY, 4000, 53, q), 64, 3, 0));
    }

    private void awaitDnsAnswer(int id) throws Exception {
        ByteBuffer a = guest.await(f -> f.limit() > 44 && f.get(23) == 17 && (f.getShort(34) & 0xffff) == 53
                && (f.getShort(42) & 0xffff) == (id & 0xffff), 5000);
        assertNotNull(a, "no answer to DNS query " + id);
    }

    /** What the next stack does with the state, in the order the component does it: flows, leases, then links. */
    private NetStack takeOver(NetStack.HandOver handed) {
        NetStack next = stack();
        List<String> failures = new ArrayList<>();
        int[] taken = next.adoptFlows(handed.tcp(), handed.udp(), failures);
        assertEquals(List.of(), failures);
        assertEquals(handed.tcp().size(), taken[0]);
        assertEquals(handed.udp().size(), taken[1]);
        next.restoreLeases(handed.leases());
        Map<String, Object> description = handed.links().get(0).get();
        assertNotNull(description, "the link detaches");
        assertSame(link, description.get(MemoryTransport.SELF));
        next.attach(link, LinkHandover.held(description));
        next.resumeAdoptedFlows();
        handed.lateDnsAnswers().accept(next::lateDnsAnswer);
        return next;
    }

    @Test
    void aTcpConnectionAndAUdpFlowGoOnThroughTheSameHostSocketsAndHeldFramesAreNotLost() throws Exception {
        NetStack old = stacks.get(0);
        connect();
        send("one");
        expectEcho("one");
        udpExchange("u1");
        int udpPort = echoes.udpClientPorts().take();

        NetStack.HandOver handed = old.handOver();
        assertEquals(1, handed.tcp().size());
        assertEquals(1, handed.udp().size());
        assertEquals(0, handed.tcpReset());
        // while the update runs: the handed-over stack still answers DNS to the gateway, and holds the rest
        dnsQuery(0x4242);
        askDns(SLOW_QUERY);
        Runnable slowAnswer = slowAnswers.poll(5, TimeUnit.SECONDS);
        assertNotNull(slowAnswer, "the slow query reached the DNS service");
        send("two");
        Thread.sleep(200);

        takeOver(handed);
        // the answer the DNS service gives the old version after the link moved reaches the guest through the new one
        slowAnswer.run();
        awaitDnsAnswer(SLOW_QUERY);
        expectEcho("two");
        send(" three");
        expectEcho(" three");
        udpExchange("u2");
        assertEquals(udpPort, echoes.udpClientPorts().take(), "the same host UDP socket");
        assertEquals(1, echoes.hostSides().size(), "the same host TCP connection");
        dnsQuery(0x4343);
    }

    @Test
    void aLayoutTheNextVersionDoesNotReadResetsTheGuestAtOnceAndNewConnectionsWork() throws Exception {
        NetStack old = stacks.get(0);
        connect();
        send("one");
        expectEcho("one");
        NetStack.HandOver handed = old.handOver();

        NetStack next = stack();
        next.restoreLeases(handed.leases());
        Map<String, Object> description = handed.links().get(0).get();
        next.attach(link, LinkHandover.held(description));
        // the flows' state is refused: the resets from their records, then the state's own reset
        assertEquals(1, next.resetHandedOverFlows(handed.tcpResetRecords()));
        int port = echoes.tcpPort();
        ByteBuffer rst = guest.await(f -> MiniGuest.isTcp(f, port) && (f.get(47) & Tcp.RST) != 0, 3000);
        assertNotNull(rst, "a reset to the guest at once");
        assertEquals(theirs, rst.getInt(38), "in the guest's window");
        handed.tcp().forEach(c -> HostEndpoints.discard(c.get(TcpHandover.HOST)));
        handed.udp().forEach(f -> HostEndpoints.discard(f.get(Udp.CHANNEL)));
        assertSame(echoes.hostSides().get(0), echoes.ended().poll(3, TimeUnit.SECONDS), "the host side's peer sees the connection end");
        assertEquals("new", guest.tcpEcho(Frames.HOST_ALIAS, port, "new"));
    }

    @Test
    void aFailedUpdateHandsTheFlowsBackAndTheyGoOn() throws Exception {
        NetStack old = stacks.get(0);
        connect();
        send("one");
        expectEcho("one");
        udpExchange("u1");
        int udpPort = echoes.udpClientPorts().take();

        NetStack failing = takeOver(old.handOver());
        send("two");
        expectEcho("two");
        // the new version fails: it parks what it has again, and the old version, started again, takes it
        NetStack.HandOver back = failing.handOver();
        send("three");
        takeOver(back);
        expectEcho("three");
        udpExchange("u2");
        assertEquals(udpPort, echoes.udpClientPorts().take());
        assertEquals(1, echoes.hostSides().size());
    }
}

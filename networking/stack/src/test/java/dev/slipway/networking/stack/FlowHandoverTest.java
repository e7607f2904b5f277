package dev.slipway.networking.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import dev.slipway.networking.api.OutboundRouter;
import dev.slipway.networking.api.GuestConnection;
import dev.slipway.networking.api.GuestDatagramFlow;
import java.util.concurrent.CopyOnWriteArrayList;
import java.net.InetSocketAddress;
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
    /** The port the guest's connection goes to: the echo server's, or one the interceptor takes. */
    private int dstPort;

    @BeforeEach
    void start() throws Exception {
        echoes = new LoopbackEchoes("flow-handover");
        dstPort = echoes.tcpPort();
        link = new MemoryTransport();
        NetStack first = stack();
        first.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
    }

    /** The query id the test's DNS service answers only when the test says so, as a forwarded name is answered later. */
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
        guest.send(Frames.HOST_ALIAS, SPORT, dstPort, seq, 0, Tcp.SYN, new byte[] {2, 4, 0x05, (byte) 0xb4}, new byte[0]);
        ByteBuffer synAck = guest.await(f -> MiniGuest.isTcp(f, dstPort) && (f.get(47) & 0x12) == 0x12, 5000);
        assertNotNull(synAck, "no SYN-ACK");
        theirs = synAck.getInt(38) + 1;
        seq++;
        guest.send(Frames.HOST_ALIAS, SPORT, dstPort, seq, theirs, Tcp.ACK, new byte[0], new byte[0]);
    }

    /** Sends {@code text} on the connection (without waiting). */
    private void send(String text) throws Exception {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        guest.send(Frames.HOST_ALIAS, SPORT, dstPort, seq, theirs, Tcp.ACK | Tcp.PSH, new byte[0], data);
        seq += data.length;
    }

    /** Reads {@code expected} from the connection, in order, acknowledging it. */
    private void expectEcho(String expected) throws Exception {
        StringBuilder got = new StringBuilder();
        int port = dstPort;
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

    /** An interceptor that echoes on its own thread, as the transparent proxy serves on its own threads. */
    private final class EchoInterceptor implements OutboundRouter {
        final List<GuestConnection> taken = new CopyOnWriteArrayList<>();
        final LinkedBlockingQueue<String> ends = new LinkedBlockingQueue<>();

        @Override
        public InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
            return dstPort == INTERCEPTED_PORT ? INTERCEPT : null;
        }

        @Override
        public void intercept(GuestConnection connection) {
            taken.add(connection);
            Thread t = new Thread(() -> echo(connection), "test-interceptor");
            t.setDaemon(true);
            t.start();
        }

        private void echo(GuestConnection connection) {
            try (connection) {
                connection.readTimeout(20_000);
                byte[] b = new byte[4096];
                for (int n; (n = connection.input().read(b)) > 0; ) {
                    connection.output().write(b, 0, n);
                }
                connection.shutdownOutput();
                ends.add("end");
            } catch (IOException e) {
                ends.add(e.getMessage());
            }
        }
    }

    private static final int INTERCEPTED_PORT = 4443;

    /** A guest connection the first stack's router intercepted, one exchange done. */
    private EchoInterceptor interceptedConnection() throws Exception {
        EchoInterceptor interceptor = new EchoInterceptor();
        dstPort = INTERCEPTED_PORT;
        stacks.get(0).router(interceptor);
        connect();
        send("one");
        expectEcho("one");
        return interceptor;
    }

    @Test
    void anInterceptedConnectionGoesOnWithTheSameInterceptorThreadAcrossTwoUpdates() throws Exception {
        EchoInterceptor interceptor = interceptedConnection();
        NetStack old = stacks.get(0);

        NetStack.HandOver handed = old.handOver();
        assertEquals(1, handed.tcp().size(), "the intercepted connection is handed over");
        assertEquals(0, handed.tcpReset());
        send("two"); // held by the outgoing version's link during the update
        NetStack second = takeOver(handed);
        second.router(interceptor);
        expectEcho("two");
        send(" three");
        expectEcho(" three");

        NetStack third = takeOver(second.handOver());
        third.router(interceptor);
        // many times the interceptor's 64 KiB buffers, through the third version
        String big = "x".repeat(200_000);
        for (int i = 0; i < big.length(); i += 1000) {
            send(big.substring(i, i + 1000));
            expectEcho(big.substring(i, i + 1000));
        }
        assertEquals(1, interceptor.taken.size(), "one connection, taken by the interceptor once");

        // the guest's FIN reaches the interceptor's thread through the bridge, and its end comes back
        guest.send(Frames.HOST_ALIAS, SPORT, dstPort, seq, theirs, Tcp.ACK | Tcp.FIN, new byte[0], new byte[0]);
        assertEquals("end", interceptor.ends.poll(5, TimeUnit.SECONDS));
        ByteBuffer fin = guest.await(f -> MiniGuest.isTcp(f, INTERCEPTED_PORT) && (f.get(47) & Tcp.FIN) != 0, 5000);
        assertNotNull(fin, "the interceptor's end reaches the guest");
    }

    @Test
    void anInterceptedConnectionNobodyTakesIsResetOnBothSides() throws Exception {
        EchoInterceptor interceptor = interceptedConnection();
        NetStack old = stacks.get(0);

        NetStack.HandOver handed = old.handOver();
        // the state is refused: the guest gets RST from the reset records, the interceptor's streams fail
        NetStack next = stack();
        next.restoreLeases(handed.leases());
        next.attach(link, LinkHandover.held(handed.links().get(0).get()));
        assertEquals(1, next.resetHandedOverFlows(handed.tcpResetRecords()));
        handed.tcp().forEach(c -> HostEndpoints.discard(c.get(TcpHandover.HOST)));
        String failure = interceptor.ends.poll(5, TimeUnit.SECONDS);
        assertNotNull(failure, "the interceptor's thread is woken");
        assertTrue(failure.contains("reset"), failure);
    }

    private static final int PUBLISHED_GUEST_PORT = 7000;

    /** A datagram from the gateway to the guest's published port: its gateway port and payload. */
    private String[] fromGateway() throws Exception {
        ByteBuffer f = guest.await(x -> x.limit() > 42 && x.get(23) == 17 && (x.getShort(36) & 0xffff) == PUBLISHED_GUEST_PORT, 5000);
        assertNotNull(f, "no datagram to the published port");
        byte[] b = new byte[(f.getShort(38) & 0xffff) - 8];
        f.get(42, b);
        return new String[] {Integer.toString(f.getShort(34) & 0xffff), new String(b, StandardCharsets.US_ASCII)};
    }

    private void replyTo(int gatewayPort, String text) {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, Frames.GUEST, Frames.GATEWAY,
                Frames.udp(Frames.GUEST, Frames.GATEWAY, PUBLISHED_GUEST_PORT, gatewayPort, data), 64, 21, 0));
    }

    @Test
    void aPublishedPortsFlowGoesOnFromTheSameGatewayPortThroughTheObjectItsOwnerHolds() throws Exception {
        LinkedBlockingQueue<String> replies = new LinkedBlockingQueue<>();
        GuestDatagramFlow flow = stacks.get(0).openFlowToGuest(Frames.GUEST, PUBLISHED_GUEST_PORT, payload -> {
            byte[] b = new byte[payload.remaining()];
            payload.get(b);
            replies.add(new String(b, StandardCharsets.US_ASCII));
        });
        flow.send(ByteBuffer.wrap("p1".getBytes(StandardCharsets.US_ASCII)));
        String[] first = fromGateway();
        assertEquals("p1", first[1]);
        int gatewayPort = Integer.parseInt(first[0]);
        replyTo(gatewayPort, "r1");
        assertEquals("r1", replies.poll(5, TimeUnit.SECONDS));

        NetStack.HandOver handed = stacks.get(0).handOver();
        assertEquals(false, flow.isOpen(), "closed until a next version takes it");
        NetStack second = takeOver(handed);
        assertTrue(flow.isOpen());
        flow.send(ByteBuffer.wrap("p2".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(List.of(first[0], "p2"), List.of(fromGateway()), "the same gateway port");
        replyTo(gatewayPort, "r2");
        assertEquals("r2", replies.poll(5, TimeUnit.SECONDS));

        takeOver(second.handOver());
        flow.send(ByteBuffer.wrap("p3".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(List.of(first[0], "p3"), List.of(fromGateway()), "the same gateway port after a second update");
        replyTo(gatewayPort, "r3");
        assertEquals("r3", replies.poll(5, TimeUnit.SECONDS));

        flow.close();
        assertEquals(false, flow.isOpen());
        replyTo(gatewayPort, "r4");
        assertNull(replies.poll(300, TimeUnit.MILLISECONDS), "a closed flow's replies are not delivered");
    }

    @Test
    void aPublishedPortsFlowNobodyTakesStaysClosed() throws Exception {
        GuestDatagramFlow flow = stacks.get(0).openFlowToGuest(Frames.GUEST, PUBLISHED_GUEST_PORT, payload -> { });
        assertTrue(flow.isOpen());
        NetStack.HandOver handed = stacks.get(0).handOver();
        assertEquals(1, handed.udp().size());
        assertEquals(false, flow.isOpen(), "its owner opens a new one on the next version");
    }
}

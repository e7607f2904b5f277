package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.handover.HandoverClaim;
import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.handover.HandoverState;
import dev.slipway.networking.api.DatagramReceiver;
import dev.slipway.networking.api.GuestConnector;
import dev.slipway.networking.api.GuestDatagramFlow;

/**
 * Published ports while the network stack is replaced by a live update: a connection made and a
 * datagram sent while no stack is there wait in the host sockets and are carried by the next stack;
 * none is closed or lost. Without an update, or once the wait is over, a port with no stack closes
 * what it accepts.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StackUpdateWaitTest {
    private PortForwarder forwarder;
    private final Parking parking = new Parking();
    private final List<Thread> echoes = new CopyOnWriteArrayList<>();

    static final class Parking implements HandoverParking {
        volatile boolean updating;

        @Override
        public boolean restartExpected(String symbolicName) {
            return updating && symbolicName.equals("dev.slipway.networking.stack");
        }

        @Override
        public void deposit(HandoverState state) {
            throw new UnsupportedOperationException();
        }

        @Override
        public HandoverClaim claim(String owner) {
            return null;
        }
    }

    /** A stack whose guest echoes what it gets, prefixed with the stack's name. */
    class EchoStack implements GuestConnector {
        final String name;
        /** The flows opened on this stack; a live update hands them on ({@link #handOnTo}) or ends them ({@link #stop}). */
        final List<EchoFlow> flows = new CopyOnWriteArrayList<>();

        EchoStack(String name) {
            this.name = name;
        }

        @Override
        public void checkGuestAddress(InetAddress guest) {
        }

        @Override
        public void connect(SocketChannel hostSide, InetSocketAddress guest) {
            Thread echo = new Thread(() -> {
                try (hostSide) {
                    hostSide.configureBlocking(true);
                    ByteBuffer b = ByteBuffer.allocate(4096);
                    while (hostSide.read(b) > 0) {
                        b.flip();
                        hostSide.write(ByteBuffer.wrap((name + ":").getBytes(StandardCharsets.US_ASCII)));
                        hostSide.write(b);
                        b.clear();
                    }
                } catch (IOException e) {
                    // the test ended
                }
            }, "update-wait-echo");
            echo.setDaemon(true);
            echo.start();
            echoes.add(echo);
        }

        @Override
        public void checkRoute(InetAddress target, InetAddress via) {
        }

        @Override
        public void connect(SocketChannel hostSide, InetSocketAddress target, InetAddress via) {
            connect(hostSide, target);
        }

        @Override
        public GuestDatagramFlow openDatagramFlow(InetSocketAddress target, InetAddress via, DatagramReceiver replies) {
            return openDatagramFlow(target, replies);
        }

        @Override
        public GuestDatagramFlow openDatagramFlow(InetSocketAddress guest, DatagramReceiver replies) {
            EchoFlow flow = new EchoFlow(this, replies);
            flows.add(flow);
            return flow;
        }

        /** The stack stops without a next version to take its flows. */
        void stop() {
            flows.forEach(f -> f.open = false);
        }

        /** The stack's flows go on in {@code next} (same objects, as the real stack's are). */
        void handOnTo(EchoStack next) {
            flows.forEach(f -> f.stack = next);
        }
    }

    /** A flow whose guest echoes, prefixed with the name of the stack that carries it now. */
    static final class EchoFlow implements GuestDatagramFlow {
        volatile EchoStack stack;
        volatile boolean open = true;
        final DatagramReceiver replies;

        EchoFlow(EchoStack stack, DatagramReceiver replies) {
            this.stack = stack;
            this.replies = replies;
        }

        @Override
        public void send(ByteBuffer payload) {
            if (!open) {
                return;
            }
            String name = stack.name;
            ByteBuffer reply = ByteBuffer.allocate(name.length() + 1 + payload.remaining());
            reply.put((name + ":").getBytes(StandardCharsets.US_ASCII)).put(payload).flip();
            replies.received(reply);
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }

    @BeforeEach
    void start() throws Exception {
        forwarder = new PortForwarder(Fakes.configAdmin(new HashMap<>()));
        forwarder.parking = parking;
    }

    @AfterEach
    void stop() {
        Fakes.stop(forwarder);
    }

    private int publish(String protocol) throws Exception {
        int port = ForwarderApiTest.freePort();
        forwarder.expose(new PublishedPort(protocol, "127.0.0.1:" + port, "192.168.65.3:80"), false);
        return port;
    }

    private static String read(Socket s, int n) throws IOException {
        byte[] b = s.getInputStream().readNBytes(n);
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static String exchange(DatagramSocket client, int port, String text) throws IOException {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        client.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), port));
        return receive(client);
    }

    private static String receive(DatagramSocket client) throws IOException {
        byte[] b = new byte[2048];
        DatagramPacket p = new DatagramPacket(b, b.length);
        client.receive(p);
        return new String(b, 0, p.getLength(), StandardCharsets.US_ASCII);
    }

    @Test
    void aConnectionAndADatagramDuringTheUpdateWaitForTheNextStackAndAreCarriedByIt() throws Exception {
        EchoStack old = new EchoStack("old");
        forwarder.bindConnector(old);
        int tcp = publish("tcp");
        int udp = publish("udp");
        try (Socket before = new Socket(InetAddress.getLoopbackAddress(), tcp); DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            before.getOutputStream().write('a');
            assertEquals("old:a", read(before, 5));
            client.setSoTimeout(5000);
            assertEquals("old:u1", exchange(client, udp, "u1"));

            parking.updating = true;
            forwarder.unbindConnector(old);
            try (Socket during = new Socket(InetAddress.getLoopbackAddress(), tcp)) {
                during.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                byte[] data = "u2".getBytes(StandardCharsets.US_ASCII);
                client.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), udp));
                client.setSoTimeout(300);
                during.setSoTimeout(300);
                assertThrows(SocketTimeoutException.class, () -> during.getInputStream().read(), "the connection waits, it is not closed");
                assertThrows(SocketTimeoutException.class, () -> receive(client), "the datagram waits");

                old.stop(); // the outgoing stack did not hand its flows on: the client's flow is opened again
                forwarder.bindConnector(new EchoStack("new"));
                parking.updating = false;
                during.setSoTimeout(5000);
                client.setSoTimeout(5000);
                assertEquals("new:hello", read(during, 9), "the waiting connection is carried by the next stack");
                assertEquals("new:u2", receive(client), "the waiting datagram is carried by the next stack");
            }
            assertEquals(0L, forwarder.status().get("closedWithoutNetwork"));
        }
    }

    @Test
    void aUdpClientsFlowHandedOnByTheUpdateGoesOnAndNoNewFlowIsOpened() throws Exception {
        EchoStack old = new EchoStack("old");
        forwarder.bindConnector(old);
        int udp = publish("udp");
        try (DatagramSocket client = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            client.setSoTimeout(5000);
            assertEquals("old:u1", exchange(client, udp, "u1"));
            parking.updating = true;
            forwarder.unbindConnector(old);
            byte[] data = "u2".getBytes(StandardCharsets.US_ASCII);
            client.send(new DatagramPacket(data, data.length, InetAddress.getLoopbackAddress(), udp));

            EchoStack next = new EchoStack("new");
            old.handOnTo(next);
            forwarder.bindConnector(next);
            parking.updating = false;
            assertEquals("new:u2", receive(client), "the waiting datagram goes through the flow handed on");
            assertEquals("new:u3", exchange(client, udp, "u3"));
            assertEquals(0, next.flows.size(), "the client's flow was not opened again");
            assertEquals(1, old.flows.size());
        }
    }

    @Test
    void withoutAnUpdateOrOnceTheWaitIsOverAPortWithNoStackClosesWhatItAccepts() throws Exception {
        EchoStack old = new EchoStack("old");
        forwarder.bindConnector(old);
        int tcp = publish("tcp");
        forwarder.unbindConnector(old);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcp)) {
            s.setSoTimeout(5000);
            assertEquals(-1, s.getInputStream().read(), "no update: closed at once");
        }

        forwarder.bindConnector(old);
        forwarder.stackWaitNanos = 1_000_000_000L;
        parking.updating = true;
        forwarder.unbindConnector(old);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcp)) {
            s.setSoTimeout(5000);
            assertEquals(-1, s.getInputStream().read(), "no stack came back: closed after the wait");
        }
        assertEquals(1L, forwarder.status().get("waitedForStack"), "it waited first");
        assertEquals(2L, forwarder.status().get("closedWithoutNetwork"));
    }

    @Test
    void aConnectionTheOutgoingStackCouldNotTakeIsKeptForTheNextOne() throws Exception {
        int[] attempts = new int[1];
        EchoStack next = new EchoStack("new");
        GuestConnector going = new EchoStack("old") {
            @Override
            public void connect(SocketChannel hostSide, InetSocketAddress guest) {
                attempts[0]++;
                // the stack is replaced while it is handed this connection
                parking.updating = true;
                forwarder.unbindConnector(this);
                throw new IllegalStateException("the stack is closed");
            }
        };
        forwarder.bindConnector(going);
        int tcp = publish("tcp");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), tcp)) {
            s.getOutputStream().write('x');
            s.setSoTimeout(300);
            assertThrows(SocketTimeoutException.class, () -> s.getInputStream().read(), "kept, not closed");
            forwarder.bindConnector(next);
            s.setSoTimeout(5000);
            assertEquals("new:x", read(s, 5));
        }
        assertEquals(1, attempts[0]);
    }
}

package dev.slipway.networking.stack.component;

import dev.slipway.networking.stack.LoopbackEchoes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.handover.HandoverClaim;
import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.handover.HandoverState;
import dev.slipway.networking.stack.Frames;
import dev.slipway.networking.stack.MiniGuest;
import dev.slipway.networking.stack.tcp.Tcp;
import dev.slipway.networking.stack.transport.StreamTransport;

/**
 * The network component's side of a live update, with a parking service of its own: a guest on a
 * QEMU stream link keeps its TCP connection through the update (the link and the flow parked as two
 * states and claimed by the next instance), and a flow state in a format the next instance does not
 * read is refused with the guest's connection reset at once, its host socket closed, and new
 * connections working. A next instance that took the state and then fails (its activation throws
 * after the claim, or it is stopped by the update's rollback after it carried bytes) gives back
 * what it holds then, and the instance that runs again goes on with the same connection and flow.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetworkServiceHandoverTest {
    private static final String OWNER = "dev.slipway.networking.stack/stack";
    private static final String FLOWS = "dev.slipway.networking.stack/flows";
    private static final int SPORT = 42000;
    private static final int UDP_SPORT = 42001;

    @TempDir
    Path dir;

    private final Parking parking = new Parking();
    private final List<NetworkService> services = new ArrayList<>();
    private LoopbackEchoes echoes;
    private SocketChannel guestSide;
    private final LinkedBlockingQueue<ByteBuffer> toGuest = new LinkedBlockingQueue<>();
    private MiniGuest guest;
    private int seq;
    private int theirs;

    /** Parks states the way the deploy bundle does, and remembers what became of each claim. */
    static final class Parking implements HandoverParking {
        volatile boolean updating;
        final Map<String, HandoverState> parked = new HashMap<>();
        final Map<String, String> outcome = new HashMap<>();

        @Override
        public boolean restartExpected(String symbolicName) {
            return updating;
        }

        @Override
        public synchronized void deposit(HandoverState state) {
            parked.put(state.owner(), state);
        }

        @Override
        public synchronized HandoverClaim claim(String owner) {
            HandoverState state = parked.remove(owner);
            if (state == null) {
                return null;
            }
            return new HandoverClaim() {
                @Override
                public HandoverState state() {
                    return state;
                }

                @Override
                public void accept(List<String> handedOver, List<String> reset) {
                    outcome.put(owner, "accepted " + handedOver + " reset " + reset);
                }

                @Override
                public void refuse(String reason) {
                    outcome.put(owner, "refused " + reason);
                    state.reset().run();
                }

                @Override
                public void release(String reason) {
                    outcome.put(owner, "released " + reason);
                }
            };
        }
    }

    @BeforeEach
    void start() throws Exception {
        echoes = new LoopbackEchoes("handover");

        NetworkService first = service();
        Path socket = dir.resolve("vm.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            guestSide = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            first.stack().attach(new StreamTransport("qemu test", server.accept(), StreamTransport.Framing.QEMU));
        }
        Files.deleteIfExists(socket);
        Thread reader = new Thread(this::readFrames, "handover-guest-reader");
        reader.setDaemon(true);
        reader.start();
        guest = new MiniGuest(new MiniGuest.Pipe() {
            @Override
            public void send(ByteBuffer frame) throws IOException {
                ByteBuffer header = ByteBuffer.allocate(4).putInt(0, frame.remaining());
                synchronized (guestSide) {
                    guestSide.write(new ByteBuffer[] {header, frame.duplicate()});
                }
            }

            @Override
            public ByteBuffer next(long millis) throws InterruptedException {
                return toGuest.poll(millis, TimeUnit.MILLISECONDS);
            }
        }, Frames.GUEST_MAC);
        guest.dhcp();
    }

    private void readFrames() {
        ByteBuffer header = ByteBuffer.allocate(4);
        try {
            while (true) {
                header.clear();
                while (header.hasRemaining()) {
                    if (guestSide.read(header) < 0) {
                        return;
                    }
                }
                ByteBuffer frame = ByteBuffer.allocateDirect(header.getInt(0));
                while (frame.hasRemaining()) {
                    if (guestSide.read(frame) < 0) {
                        return;
                    }
                }
                toGuest.add(frame.flip());
            }
        } catch (IOException e) {
            // the test ended
        }
    }

    private NetworkService service() throws IOException {
        return service(Map.of());
    }

    private NetworkService service(Map<String, Object> properties) throws IOException {
        NetworkService s = new NetworkService(new NetworkSettings(properties, k -> null), parking, OWNER);
        services.add(s);
        return s;
    }

    private void sendFrame(ByteBuffer frame) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(4).putInt(0, frame.remaining());
        synchronized (guestSide) {
            guestSide.write(new ByteBuffer[] {header, frame.duplicate()});
        }
    }

    private void udpExchange(String text) throws Exception {
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        int port = echoes.udpPort();
        sendFrame(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, guest.address, Frames.HOST_ALIAS,
                Frames.udp(guest.address, Frames.HOST_ALIAS, UDP_SPORT, port, data), 64, 11, 0));
        ByteBuffer reply = guest.await(f -> f.limit() > 42 && f.get(23) == 17 && (f.getShort(34) & 0xffff) == port, 5000);
        assertNotNull(reply, "no UDP echo of " + text);
        byte[] b = new byte[data.length];
        reply.get(42, b);
        assertEquals(text, new String(b, StandardCharsets.US_ASCII));
    }

    @AfterEach
    void stop() throws IOException {
        parking.updating = false;
        for (NetworkService s : services) {
            s.stack().close();
        }
        echoes.close();
        if (guestSide != null) {
            guestSide.close();
        }
    }

    private void connectAndEcho(String text) throws Exception {
        int port = echoes.tcpPort();
        seq = 1000;
        guest.send(Frames.HOST_ALIAS, SPORT, port, seq, 0, Tcp.SYN, new byte[] {2, 4, 0x05, (byte) 0xb4}, new byte[0]);
        ByteBuffer synAck = guest.await(f -> MiniGuest.isTcp(f, port) && (f.get(47) & 0x12) == 0x12, 5000);
        assertNotNull(synAck, "no SYN-ACK");
        theirs = synAck.getInt(38) + 1;
        seq++;
        guest.send(Frames.HOST_ALIAS, SPORT, port, seq, theirs, Tcp.ACK, new byte[0], new byte[0]);
        echo(text);
    }

    private void echo(String text) throws Exception {
        int port = echoes.tcpPort();
        byte[] data = text.getBytes(StandardCharsets.US_ASCII);
        guest.send(Frames.HOST_ALIAS, SPORT, port, seq, theirs, Tcp.ACK | Tcp.PSH, new byte[0], data);
        seq += data.length;
        ByteBuffer f = guest.await(x -> MiniGuest.isTcp(x, port) && MiniGuest.payloadLength(x) > 0, 5000);
        assertNotNull(f, "no echo of " + text);
        assertEquals(theirs, f.getInt(38));
        int n = MiniGuest.payloadLength(f);
        byte[] b = new byte[n];
        f.get(34 + (f.get(46) >> 4 & 15) * 4, b);
        assertEquals(text, new String(b, StandardCharsets.US_ASCII));
        theirs += n;
        guest.send(Frames.HOST_ALIAS, SPORT, port, seq, theirs, Tcp.ACK, new byte[0], new byte[0]);
    }

    @Test
    void theGuestsConnectionGoesOnThroughTheUpdate() throws Exception {
        connectAndEcho("before");
        parking.updating = true;
        services.get(0).deactivate();
        assertNotNull(parking.parked.get(FLOWS));
        assertNotNull(parking.parked.get(OWNER));

        service();
        assertTrue(parking.outcome.get(FLOWS).startsWith("accepted [1 TCP connections"), parking.outcome.toString());
        assertTrue(parking.outcome.get(OWNER).startsWith("accepted [link qemu test"), parking.outcome.toString());
        echo("after");
        assertEquals(1, echoes.hostSides().size(), "the same host connection");
        assertNull(echoes.ended().poll(), "the host connection goes on");
    }

    @Test
    void aFlowStateInAnotherFormatIsRefusedTheGuestIsResetAtOnceAndNewConnectionsWork() throws Exception {
        connectAndEcho("before");
        parking.updating = true;
        services.get(0).deactivate();
        HandoverState flows = parking.parked.get(FLOWS);
        parking.parked.put(FLOWS, new HandoverState(FLOWS, NetworkService.FLOWS_FORMAT + 1, flows.items(), flows.summary(), flows.reset()));

        service();
        assertTrue(parking.outcome.get(FLOWS).startsWith("refused flow state format"), parking.outcome.toString());
        assertTrue(parking.outcome.get(OWNER).startsWith("accepted"), parking.outcome.toString());
        int port = echoes.tcpPort();
        ByteBuffer rst = guest.await(f -> MiniGuest.isTcp(f, port) && (f.get(47) & Tcp.RST) != 0, 3000);
        assertNotNull(rst, "a reset to the guest at once");
        assertEquals(theirs, rst.getInt(38), "in the guest's window");
        assertEquals(echoes.hostSides().get(0), echoes.ended().poll(3, TimeUnit.SECONDS), "the host socket is closed");
        assertEquals("new", guest.tcpEcho(Frames.HOST_ALIAS, port, "new"));
    }

    @Test
    void aNextInstanceThatTookTheFlowsAndThenFailsToActivateGivesThemBackAndTheOldOneGoesOn() throws Exception {
        connectAndEcho("before");
        udpExchange("u1");
        int udpPort = echoes.udpClientPorts().take();
        parking.updating = true;
        services.get(0).deactivate();

        // its activation throws after it took everything: the vpnkit socket's directory (opened last) is a file
        Path notADirectory = Files.writeString(dir.resolve("not-a-directory"), "");
        assertThrows(IOException.class, () -> service(Map.of("vpnkitSocket", notADirectory.resolve("vpnkit.sock").toString())));
        assertTrue(parking.outcome.get(FLOWS).startsWith("accepted [1 TCP connections, 1 UDP flows"), parking.outcome.toString());
        assertTrue(parking.outcome.get(OWNER).startsWith("accepted [link qemu test"), parking.outcome.toString());
        assertNotNull(parking.parked.get(FLOWS), "the flows were given back");
        assertNotNull(parking.parked.get(OWNER), "the link was given back");

        service(); // the version the update rolls back to
        echo("after, both ways");
        udpExchange("u2");
        assertEquals(udpPort, echoes.udpClientPorts().take(), "the same host UDP socket");
        assertEquals(1, echoes.hostSides().size(), "the same host connection");
        assertNull(echoes.ended().poll(), "the host connection goes on");
    }

    @Test
    void aNextInstanceStoppedByTheRollbackAfterItCarriedBytesGivesBackTheFlowsAsTheyAreThen() throws Exception {
        connectAndEcho("before");
        udpExchange("u1");
        int udpPort = echoes.udpClientPorts().take();
        parking.updating = true;
        services.get(0).deactivate();

        NetworkService failing = service();
        echo("through the new version"); // both sides' sequence numbers move on
        udpExchange("u2");
        failing.deactivate(); // rolled back: stopped while the update is still under way
        assertNotNull(parking.parked.get(FLOWS), "the flows were given back");

        service();
        echo("after the rollback");
        echo("and again");
        udpExchange("u3");
        assertEquals(udpPort, echoes.udpClientPorts().take());
        assertEquals(udpPort, echoes.udpClientPorts().take(), "the same host UDP socket throughout");
        assertEquals(1, echoes.hostSides().size(), "the same host connection");
        assertNull(echoes.ended().poll(), "the host connection goes on");
    }
}

package dev.slipway.networking.stack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.api.GuestDatagramFlow;
import dev.slipway.networking.stack.link.Ethernet;
import dev.slipway.networking.stack.tcp.Tcp;

/**
 * Connections and flows the host opens to an address behind a guest (a container on the guest's
 * bridge): the frames go to the guest's link address with the container's IP address, and the
 * container's answers, forwarded by the guest without translation, find their connection.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RoutedFlowTest {
    static final int CONTAINER = Ip4.parse("172.17.0.2");
    NetStack stack;
    MemoryTransport link;
    MiniGuest guest;

    @BeforeEach
    void start() throws Exception {
        stack = new NetStack(NetConfig.defaults());
        link = new MemoryTransport();
        stack.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
        // a packet from the guest teaches the stack its link address
        link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 1, Frames.GUEST, Frames.GATEWAY,
                Frames.icmpEcho(7, 1, "ping".getBytes(StandardCharsets.US_ASCII)), 64, 9, 0));
        assertNotNull(guest.await(f -> f.getShort(12) == 0x0800 && f.get(23) == 1, 3000), "no echo reply");
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    static InetAddress address(String a) throws Exception {
        return InetAddress.getByName(a);
    }

    static InetAddress guestAddress() throws Exception {
        return address(Ip4.toString(Frames.GUEST));
    }

    static boolean tcpTo(ByteBuffer f, int dst, int dport) {
        return f.limit() >= 54 && f.getShort(12) == 0x0800 && f.get(23) == 6 && f.getInt(30) == dst
                && (f.getShort(36) & 0xffff) == dport;
    }

    @Test
    void aConnectionBehindTheGuestGoesToItsLinkAddressAndTheContainerAnswers() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(server.getLocalAddress())) {
            SocketChannel accepted = server.accept();
            stack.connectToGuest(accepted, new InetSocketAddress(address("172.17.0.2"), 80), guestAddress());
            ByteBuffer syn = guest.await(f -> tcpTo(f, CONTAINER, 80), 3000);
            assertNotNull(syn, "no SYN towards the container");
            assertEquals(Frames.GUEST_MAC, Ethernet.getMac(syn, 0), "the SYN goes to the guest that routes the container");
            assertEquals(Frames.GATEWAY, syn.getInt(26));
            assertEquals(Tcp.SYN, syn.get(47) & 0x3f);
            int ourPort = syn.getShort(34) & 0xffff;
            int ourSeq = syn.getInt(38);
            // the container answers from its own address; the guest forwards it as it is
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, CONTAINER, Frames.GATEWAY,
                    Frames.tcp(CONTAINER, Frames.GATEWAY, 80, ourPort, 1000, ourSeq + 1, Tcp.SYN | Tcp.ACK, 65535, new byte[0], new byte[0]),
                    64, 10, 0));
            ByteBuffer ack = guest.await(f -> tcpTo(f, CONTAINER, 80) && (f.get(47) & Tcp.ACK) != 0, 3000);
            assertNotNull(ack, "no ACK of the container's SYN-ACK");
            assertEquals(Frames.GUEST_MAC, Ethernet.getMac(ack, 0));
            byte[] page = "hello from a container\n".getBytes(StandardCharsets.US_ASCII);
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 6, CONTAINER, Frames.GATEWAY,
                    Frames.tcp(CONTAINER, Frames.GATEWAY, 80, ourPort, 1001, ourSeq + 1, Tcp.PSH | Tcp.ACK, 65535, new byte[0], page),
                    64, 11, 0));
            ByteBuffer got = ByteBuffer.allocate(page.length);
            client.socket().setSoTimeout(5000);
            long deadline = System.nanoTime() + 5_000_000_000L;
            client.configureBlocking(false);
            while (got.hasRemaining() && System.nanoTime() < deadline) {
                if (client.read(got) < 0) {
                    break;
                }
                Thread.sleep(10);
            }
            assertArrayEquals(page, got.array());
            // the host's bytes go the same way
            client.write(ByteBuffer.wrap("GET /\n".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer data = guest.await(f -> tcpTo(f, CONTAINER, 80) && (f.getShort(16) & 0xffff) > 40, 3000);
            assertNotNull(data, "no data towards the container");
            assertEquals(Frames.GUEST_MAC, Ethernet.getMac(data, 0));
        }
    }

    @Test
    void aDatagramFlowBehindTheGuestGetsTheContainersReplies() throws Exception {
        BlockingQueue<String> replies = new ArrayBlockingQueue<>(4);
        GuestDatagramFlow flow = stack.openFlowToGuest(new InetSocketAddress(address("172.17.0.2"), 53), guestAddress(), payload -> {
            byte[] b = new byte[payload.remaining()];
            payload.get(b);
            replies.add(new String(b, StandardCharsets.US_ASCII));
        });
        try {
            flow.send(ByteBuffer.wrap("question".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer sent = guest.await(f -> f.limit() >= 42 && f.getShort(12) == 0x0800 && f.get(23) == 17
                    && f.getInt(30) == CONTAINER && (f.getShort(36) & 0xffff) == 53, 3000);
            assertNotNull(sent, "no datagram towards the container");
            assertEquals(Frames.GUEST_MAC, Ethernet.getMac(sent, 0));
            int ourPort = sent.getShort(34) & 0xffff;
            link.inject(Frames.ip(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 17, CONTAINER, Frames.GATEWAY,
                    Frames.udp(CONTAINER, Frames.GATEWAY, 53, ourPort, "answer".getBytes(StandardCharsets.US_ASCII)), 64, 12, 0));
            assertEquals("answer", replies.poll(5, TimeUnit.SECONDS));
        } finally {
            flow.close();
        }
    }

    @Test
    void onlyUnicastAddressesOutsideTheGuestNetworkThroughAGuestAreRouted() throws Exception {
        InetAddress guest = guestAddress();
        assertNull(stack.unroutedReason(address("172.17.0.2"), guest));
        assertNull(stack.unroutedReason(address("10.1.2.3"), guest));
        // the guest to go through must be one: not the gateway, the host alias, outside, the broadcast, IPv6
        assertTrue(stack.unroutedReason(address("172.17.0.2"), address("192.168.65.1")).contains("gateway"));
        assertTrue(stack.unroutedReason(address("172.17.0.2"), address("192.168.65.254")).contains("host alias"));
        assertTrue(stack.unroutedReason(address("172.17.0.2"), address("10.0.0.1")).contains("outside"));
        assertTrue(stack.unroutedReason(address("172.17.0.2"), address("192.168.65.255")).contains("not a host address"));
        assertTrue(stack.unroutedReason(address("172.17.0.2"), address("fd00::3")).contains("IPv4"));
        // the target must be something a guest routes: not on the guest network, loopback, any, multicast,
        // link-local (the cloud metadata address among them), the limited broadcast or IPv6
        for (String target : new String[] {"192.168.65.3", "192.168.65.1", "127.0.0.1", "0.0.0.0", "224.0.0.1",
                "169.254.169.254", "255.255.255.255", "::1", "fd00::2"}) {
            assertNotNull(stack.unroutedReason(address(target), guest), target);
        }
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                SocketChannel client = SocketChannel.open(server.getLocalAddress());
                SocketChannel accepted = server.accept()) {
            assertThrows(IllegalArgumentException.class,
                    () -> stack.connectToGuest(accepted, new InetSocketAddress(address("127.0.0.1"), 2375), guest));
            assertThrows(IllegalArgumentException.class,
                    () -> stack.openFlowToGuest(new InetSocketAddress(address("169.254.169.254"), 53), guest, p -> { }));
        }
    }

    @Test
    void aRoutedFlowHandedOverKeepsItsGuest() throws Exception {
        dev.slipway.networking.stack.ip.FlowKey key = new dev.slipway.networking.stack.ip.FlowKey().set(CONTAINER, 80, Frames.GATEWAY, 50000);
        key.nextHop4 = Frames.GUEST;
        assertEquals(Frames.GUEST, key.copy().nextHop4);
        assertEquals(key, key.copy().set(CONTAINER, 80, Frames.GATEWAY, 50000), "the guest to go through is not part of the key");
        assertEquals(0, key.copy().set(CONTAINER, 80, Frames.GATEWAY, 50000).nextHop4);
    }
}

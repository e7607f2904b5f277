package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.helperclient.SocketHelperClient;

import dev.slipway.platform.linux.natives.ReceivedSockets;
import dev.slipway.testing.Prerequisites;

/**
 * ports.bind end to end in one process: the real helper binds, passes the socket with SCM_RIGHTS, the
 * client receives it and the forwarder's adoption turns it into a working channel. Needs root (the helper
 * binds below 1024); the unprivileged runtime is {@link UnprivilegedRuntimePortRootTest}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HelperBoundPortsRootTest {

    @TempDir
    Path dir;
    TestHelper helper;
    SocketHelperClient client;
    int port;

    @BeforeEach
    void start() throws Exception {
        Prerequisites.assumeRoot("the helper binds ports below 1024");
        String group = Files.readAttributes(dir, java.nio.file.attribute.PosixFileAttributes.class).group().getName();
        helper = new TestHelper(dir, group);
        client = new SocketHelperClient(helper.socket, Duration.ofSeconds(10));
        port = TestHelper.freePrivilegedPort();
    }

    @AfterEach
    void stop() throws Exception {
        if (helper != null) {
            helper.close();
        }
    }

    private Map<String, String> params(String protocol, String address, String port) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("protocol", protocol);
        p.put("address", address);
        p.put("port", port);
        return p;
    }

    @Test
    void aTcpPortBoundByTheHelperAcceptsConnectionsThroughTheAdoptedChannelAndIsFreedWhenClosed() throws Exception {
        int fd = client.callForDescriptor("ports.bind", params("tcp", "127.0.0.1", Integer.toString(port))).descriptor();
        try (ServerSocketChannel server = ReceivedSockets.tcp(fd, InetAddress.getByName("127.0.0.1"));
                SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                SocketChannel accepted = server.accept()) {
            c.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer in = ByteBuffer.allocate(4);
            while (in.hasRemaining()) {
                assertTrue(accepted.read(in) > 0);
            }
            assertEquals("ping", new String(in.array(), StandardCharsets.US_ASCII));
            assertEquals(port, ((InetSocketAddress) accepted.getLocalAddress()).getPort());
        }
        try (ServerSocket again = new ServerSocket()) {
            again.setReuseAddress(true);
            again.bind(new InetSocketAddress("127.0.0.1", port)); // the helper kept no copy
        }
        assertTrue(Files.readString(helper.auditLog).contains("ports.bind"));
    }

    @Test
    void aUdpPortBoundByTheHelperReceivesDatagramsOnTheAdoptedChannel() throws Exception {
        int fd = client.callForDescriptor("ports.bind", params("udp", "127.0.0.1", Integer.toString(port))).descriptor();
        try (DatagramChannel server = ReceivedSockets.udp(fd, InetAddress.getByName("127.0.0.1"));
                DatagramChannel c = DatagramChannel.open()) {
            byte[] payload = HexFormat.of().parseHex("00ff10203040");
            c.send(ByteBuffer.wrap(payload), new InetSocketAddress("127.0.0.1", port));
            ByteBuffer in = ByteBuffer.allocate(64);
            server.receive(in);
            assertArrayEquals(payload, java.util.Arrays.copyOf(in.array(), in.position()));
        }
    }

    @Test
    void addressesOutsideTheAllowListAllAddressesWithoutTheFlagAndHighPortsAreRefusedAndNothingIsBound() throws Exception {
        HelperException other = assertThrows(HelperException.class,
                () -> client.callForDescriptor("ports.bind", params("tcp", "10.11.12.13", Integer.toString(port))));
        assertEquals(HelperErrors.REFUSED, other.code(), other.getMessage());
        assertTrue(other.getMessage().contains("neither loopback nor"), other.getMessage());
        HelperException all = assertThrows(HelperException.class,
                () -> client.callForDescriptor("ports.bind", params("tcp", "0.0.0.0", Integer.toString(port))));
        assertEquals(HelperErrors.REFUSED, all.code());
        assertTrue(all.getMessage().contains("allAddresses=true"), all.getMessage());
        HelperException high = assertThrows(HelperException.class,
                () -> client.callForDescriptor("ports.bind", params("tcp", "127.0.0.1", "8080")));
        assertEquals(HelperErrors.INVALID, high.code());
        HelperException name = assertThrows(HelperException.class,
                () -> client.callForDescriptor("ports.bind", params("tcp", "localhost", Integer.toString(port))));
        assertEquals(HelperErrors.INVALID, name.code());
        try (ServerSocket free = new ServerSocket()) {
            free.bind(new InetSocketAddress("127.0.0.1", port));
        }
    }

    @Test
    void aRequestCannotNameAConnectionToReplyOnAndNothingIsBound() throws Exception {
        Map<String, String> p = params("tcp", "127.0.0.1", Integer.toString(port));
        p.put("reply", "0123456789abcdef0123456789abcdef");
        HelperException e = assertThrows(HelperException.class, () -> client.callForDescriptor("ports.bind", p));
        assertEquals(HelperErrors.UNKNOWN_FIELD, e.code());
        assertTrue(e.getMessage().contains("reply"), e.getMessage());
        try (ServerSocket free = new ServerSocket()) {
            free.bind(new InetSocketAddress("127.0.0.1", port));
        }
    }
}

package dev.slipway.helperclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperClient.DescriptorReply;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.helper.portsbind.PortsBindOperation;
import dev.slipway.testing.Prerequisites;

/**
 * Member A asks for a port while member B is connected: the bound socket reaches A's own connection
 * and never B's, whatever A puts in its request. Needs root (ports below 1024).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortsBindConnectionRootTest {

    interface C extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        int bind(int fd, byte[] address, int length) throws LastErrorException;

        int connect(int fd, byte[] address, int length) throws LastErrorException;

        long recv(int fd, byte[] buffer, long length, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int MSG_PEEK = 0x2;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int EAGAIN = 11;

    @TempDir
    Path dir;
    InJvmHelper helper;
    C libc;

    @BeforeEach
    void start() throws Exception {
        Prerequisites.assumeRoot("ports.bind binds below 1024");
        libc = Native.load("c", C.class);
        String group = Files.readAttributes(dir, PosixFileAttributes.class).group().getName();
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String g) { return Set.of(); }
            @Override public boolean groupExists(String g) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.empty(); }
        };
        helper = new InJvmHelper(dir, group, Optional.empty(), accounts, InJvmHelper.limits());
        helper.helper.register(HelperSchema.PORTS_BIND, new PortsBindOperation(key -> Optional.empty()));
    }

    @AfterEach
    void stop() throws IOException {
        if (helper != null) {
            helper.close();
        }
    }

    @Test
    void aRequestNamingAnotherMembersConnectionDeliversNothingThereAndTheSocketGoesBackOnTheRequestsOwnConnection() throws Exception {
        String token = "0123456789abcdef0123456789abcdef";
        int victim = victimConnection(token);
        try {
            int port = freePrivilegedPort();
            String attack = "{\"v\":1,\"id\":1,\"op\":\"ports.bind\",\"params\":{\"protocol\":\"tcp\",\"address\":\"127.0.0.1\",\"port\":\""
                    + port + "\",\"reply\":\"" + token + "\"}}";
            String reply = exchange(attack);
            assertEquals(-1, pending(victim), "nothing reached the other member's connection; the reply was " + reply);
            assertTrue(reply.contains("\"ok\":false") && reply.contains("\"code\":\"unknown-field\""), reply);

            DescriptorReply own = helper.client().callForDescriptor(HelperSchema.PORTS_BIND,
                    new LinkedHashMap<>(Map.of("protocol", "tcp", "address", "127.0.0.1", "port", Integer.toString(port))));
            try {
                assertNotEquals(-1, own.descriptor());
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 2000); // the listener A received answers
                }
            } finally {
                libc.close(own.descriptor());
            }
            assertEquals(-1, pending(victim), "still nothing on the other member's connection");
        } finally {
            libc.close(victim);
        }
    }

    /** A connection to the helper bound to {@code \0slipway-ports-TOKEN}, as the earlier client bound its own. */
    private int victimConnection(String token) throws Exception {
        int fd = libc.socket(AF_UNIX, SOCK_STREAM, 0);
        byte[] name = ("slipway-ports-" + token).getBytes(StandardCharsets.US_ASCII);
        byte[] local = new byte[3 + name.length];
        local[0] = AF_UNIX;
        System.arraycopy(name, 0, local, 3, name.length);
        libc.bind(fd, local, local.length);
        byte[] path = helper.socket.toString().getBytes(StandardCharsets.UTF_8);
        byte[] remote = new byte[3 + path.length];
        remote[0] = AF_UNIX;
        System.arraycopy(path, 0, remote, 2, path.length);
        libc.connect(fd, remote, remote.length);
        return fd;
    }

    /** Bytes waiting on {@code fd} without reading them, or -1 when none are. */
    private long pending(int fd) {
        try {
            return libc.recv(fd, new byte[16], 16, MSG_PEEK | MSG_DONTWAIT);
        } catch (LastErrorException e) {
            assertEquals(EAGAIN, e.getErrorCode());
            return -1;
        }
    }

    private String exchange(String json) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(helper.socket));
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            c.write(ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).flip());
            ByteBuffer header = ByteBuffer.allocate(4);
            while (header.hasRemaining() && c.read(header) >= 0) {
                // blocking read of the length
            }
            ByteBuffer reply = ByteBuffer.allocate(header.getInt(0));
            while (reply.hasRemaining() && c.read(reply) >= 0) {
                // blocking read of the body
            }
            return new String(reply.array(), StandardCharsets.UTF_8);
        }
    }

    static int freePrivilegedPort() throws IOException {
        for (int port = 1023; port > 900; port--) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException inUse) {
                // try the next one
            }
        }
        throw new IOException("no free port in 901-1023");
    }

}

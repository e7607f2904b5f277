package dev.slipway.platform.linux.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class PingSocketTest {

    @Test
    void aReadinessSetMakesANativeSocketSelectable() throws IOException {
        int fd = InetSockets.bind(false, InetAddress.getByName("127.0.0.1"), 0);
        try (ReadinessSet set = ReadinessSet.open(); Selector selector = Selector.open();
                DatagramSocket sender = new DatagramSocket()) {
            set.add(fd, 42);
            set.channel().register(selector, SelectionKey.OP_READ);
            int[] tokens = new int[4];
            assertEquals(0, selector.selectNow());
            assertEquals(0, set.ready(tokens));
            int port = localPort(fd);
            sender.send(new DatagramPacket(new byte[] {1, 2, 3}, 3, new InetSocketAddress("127.0.0.1", port)));
            assertEquals(1, selector.select(5000), "the set's channel turns readable");
            assertEquals(1, set.ready(tokens));
            assertEquals(42, tokens[0]);
            set.remove(fd);
            assertEquals(0, set.ready(tokens), "removed: no longer reported though its datagram waits");
        } finally {
            FileDescriptors.closeQuietly(fd);
        }
    }

    /**
     * A descriptor handed over as a ping socket is checked before it is used: a UDP socket, a
     * descriptor not open and an IPv4 ping socket taken as IPv6 are refused, and stay as they were.
     */
    @Test
    void adoptTakesOnlyAPingSocketOfTheFamily() throws IOException {
        int udp = InetSockets.bind(false, InetAddress.getByName("127.0.0.1"), 0);
        try {
            IOException notPing = assertThrows(IOException.class, () -> PingSocket.adopt(udp, false));
            assertTrue(notPing.getMessage().contains("is not an ICMP ping socket"), notPing.getMessage());
            assertTrue(Files.exists(Path.of("/proc/self/fd/" + udp)), "a refused descriptor is left open");
            int closed = 1_000_000;
            assertThrows(IOException.class, () -> PingSocket.adopt(closed, false));
            assertThrows(IOException.class, () -> PingSocket.adopt(-1, false));
        } finally {
            FileDescriptors.closeQuietly(udp);
        }
        PingSocket socket;
        try {
            socket = PingSocket.open(false);
        } catch (ErrnoException e) {
            assertEquals(Errno.EACCES, e.errno());
            System.out.println("PingSocketTest: the ping group range leaves this process out; adopting a real ping socket is "
                    + "tested by the stack's namespace test");
            return;
        }
        try (socket) {
            IOException wrongFamily = assertThrows(IOException.class, () -> PingSocket.adopt(socket.descriptor(), true));
            assertTrue(wrongFamily.getMessage().contains("ICMPv6"), wrongFamily.getMessage());
            PingSocket adopted = PingSocket.adopt(socket.descriptor(), false);
            assertEquals(socket.descriptor(), adopted.descriptor());
        }
    }

    private static int localPort(int fd) throws IOException {
        String target = "socket:[";
        String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        assertTrue(link.startsWith(target), link);
        long inode = Long.parseLong(link.substring(target.length(), link.length() - 1));
        for (String line : Files.readAllLines(Path.of("/proc/net/udp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 9 && f[9].equals(Long.toString(inode))) {
                return Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16);
            }
        }
        throw new IOException("socket " + inode + " is not in /proc/net/udp");
    }

    /**
     * Whether this process may open ping sockets is the host's choice (net.ipv4.ping_group_range of
     * this network namespace): either way the outcome is checked. The namespace tests of the stack
     * try both settings.
     */
    @Test
    void pingsLoopbackOrSaysThePingGroupRangeForbidsIt() throws IOException {
        String setting = readSysctl(Path.of("/proc/sys/net/ipv4/ping_group_range"));
        String[] range = setting.trim().split("\\s+");
        assertEquals(2, range.length, "ping_group_range is [" + setting + "]");
        long gid = Long.parseLong(new String(Files.readAllBytes(Path.of("/proc/self/status")))
                .lines().filter(l -> l.startsWith("Gid:")).findFirst().orElseThrow().split("\\s+")[1]);
        boolean allowed = Long.parseLong(range[0]) <= gid && gid <= Long.parseLong(range[1]);
        if (!allowed) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> PingSocket.open(false));
            assertEquals(Errno.EACCES, e.errno());
            assertTrue(e.getMessage().contains("ping_group_range"), e.getMessage());
            return;
        }
        try (PingSocket socket = PingSocket.open(false); ReadinessSet set = ReadinessSet.open();
                Selector selector = Selector.open()) {
            set.add(socket.descriptor(), 7);
            set.channel().register(selector, SelectionKey.OP_READ);
            ByteBuffer b = ByteBuffer.allocateDirect(128);
            b.put(0, (byte) 8).putShort(4, (short) 0x1234).putShort(6, (short) 9).put(8, (byte) 'x');
            socket.ttl(5);
            assertEquals(9, socket.send(b, 0, 9, 0, 0x7f00_0001L));
            assertEquals(1, selector.select(5000));
            int n = socket.receive(b, 0, 128);
            assertEquals(9, n);
            assertFalse(socket.wasError());
            assertEquals(0, b.get(0), "an echo reply");
            assertEquals(9, b.getShort(6));
            assertEquals(0x7f00_0001L, socket.fromLo());
            assertEquals(-Errno.EAGAIN, socket.receive(b, 0, 128));
        }
    }

    /** The ICMPv6 twin: the same setting governs both families; the reply's sender is {@code ::1}. */
    @Test
    void pingsIpv6LoopbackOrSaysThePingGroupRangeForbidsIt() throws IOException {
        String[] range = readSysctl(Path.of("/proc/sys/net/ipv4/ping_group_range")).trim().split("\\s+");
        long gid = Long.parseLong(new String(Files.readAllBytes(Path.of("/proc/self/status")))
                .lines().filter(l -> l.startsWith("Gid:")).findFirst().orElseThrow().split("\\s+")[1]);
        if (!(Long.parseLong(range[0]) <= gid && gid <= Long.parseLong(range[1]))) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> PingSocket.open(true));
            assertEquals(Errno.EACCES, e.errno());
            assertTrue(e.getMessage().contains("ICMPv6"), e.getMessage());
            return;
        }
        try (PingSocket socket = PingSocket.open(true); ReadinessSet set = ReadinessSet.open();
                Selector selector = Selector.open()) {
            assertTrue(socket.v6());
            set.add(socket.descriptor(), 8);
            set.channel().register(selector, SelectionKey.OP_READ);
            ByteBuffer b = ByteBuffer.allocateDirect(128);
            b.put(0, (byte) 128).putShort(4, (short) 0x1234).putShort(6, (short) 11).put(8, (byte) 'y').put(9, (byte) 'z');
            socket.ttl(3);
            assertEquals(10, socket.send(b, 0, 10, 0, 1));
            assertEquals(1, selector.select(5000));
            b.clear();
            int n = socket.receive(b, 0, 128);
            assertEquals(10, n);
            assertFalse(socket.wasError());
            assertEquals(129, b.get(0) & 0xff, "an ICMPv6 echo reply");
            assertEquals(11, b.getShort(6));
            assertEquals('z', b.get(9));
            assertEquals(0, socket.fromHi());
            assertEquals(1, socket.fromLo(), "from ::1");
            assertEquals(-Errno.EAGAIN, socket.receive(b, 0, 128));
        }
    }

    /** Read in one call: the kernel's handler of this setting answers a read at an offset past 0 with nothing. */
    private static String readSysctl(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            byte[] b = new byte[128];
            int n = in.read(b);
            return new String(b, 0, Math.max(0, n), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    @Test
    void aTtlOutsideOneTo255IsRefused() throws IOException {
        try (PingSocket socket = PingSocket.open(false)) {
            assertThrows(IllegalArgumentException.class, () -> socket.ttl(0));
            assertThrows(IllegalArgumentException.class, () -> socket.ttl(256));
        } catch (ErrnoException e) {
            assertEquals(Errno.EACCES, e.errno(), "only the ping group range may stop this test from opening a socket");
        }
    }
}

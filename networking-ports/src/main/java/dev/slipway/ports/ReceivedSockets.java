package dev.slipway.ports;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * Turns a socket descriptor received from the helper into a channel the forwarder selects on.
 *
 * <p>Java has no public way to wrap a descriptor in a channel, so a placeholder channel of the same
 * kind is bound to an ephemeral loopback port, its own descriptor is found without reflection (its
 * socket inode in {@code /proc/net/tcp}/{@code udp} by its port, then the {@code /proc/self/fd} entry
 * naming that inode), and the received socket is {@code dup2}'d over it: the channel object now works
 * on the helper's socket, and the placeholder socket is gone. The received descriptor is closed after
 * the copy. This is done while the channel is still blocking, so that switching it to non-blocking
 * afterwards sets O_NONBLOCK on the received socket itself. Linux only (procfs, dup2 through JNA).
 */
final class ReceivedSockets {

    interface C extends Library {
        int dup2(int from, int to) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private static final class Holder {
        static final C LIBC = Native.load("c", C.class);
    }

    private ReceivedSockets() {
    }

    /** A listening TCP channel on the received socket, bound to {@code address} (blocking). */
    static ServerSocketChannel tcp(int received, InetAddress address) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(family(address));
        return adopt(s, received, address, true);
    }

    /** A UDP channel on the received socket, bound to {@code address} (blocking). */
    static DatagramChannel udp(int received, InetAddress address) throws IOException {
        DatagramChannel d = DatagramChannel.open(family(address));
        return adopt(d, received, address, false);
    }

    private static ProtocolFamily family(InetAddress a) {
        return a instanceof Inet4Address ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
    }

    private static <T extends NetworkChannel> T adopt(T channel, int received, InetAddress address, boolean tcp) throws IOException {
        try {
            boolean v4 = address instanceof Inet4Address;
            InetAddress loopback = InetAddress.getByName(v4 ? "127.0.0.1" : "::1");
            if (channel instanceof ServerSocketChannel s) {
                s.bind(new InetSocketAddress(loopback, 0), 1);
            } else {
                channel.bind(new InetSocketAddress(loopback, 0));
            }
            int port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            long inode = inode(Path.of("/proc/net/" + (tcp ? "tcp" : "udp") + (v4 ? "" : "6")), port, tcp);
            int placeholder = descriptorOf(inode);
            Holder.LIBC.dup2(received, placeholder);
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e instanceof IOException io ? io : new IOException("cannot take over the helper's socket: " + e.getMessage(), e);
        } finally {
            try {
                Holder.LIBC.close(received);
            } catch (LastErrorException e) {
                // the descriptor is released even when close reports an error
            }
        }
    }

    /** Closes a received descriptor that is not adopted (for example after a refusal further on). */
    static void close(int received) {
        try {
            Holder.LIBC.close(received);
        } catch (LastErrorException e) {
            // released anyway
        }
    }

    /** The inode of this namespace's loopback socket on {@code port} (TCP: listening). */
    static long inode(Path table, int port, boolean tcp) throws IOException {
        String portHex = String.format(Locale.ROOT, ":%04X", port);
        List<String> lines = Files.readAllLines(table);
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 9 && f[1].endsWith(portHex) && (!tcp || f[3].equals("0A"))
                    && (f[1].startsWith("0100007F:") || f[1].startsWith("00000000000000000000000001000000:"))) {
                return Long.parseLong(f[9]);
            }
        }
        throw new IOException("cannot find the placeholder socket on port " + port + " in " + table);
    }

    /** This process's descriptor of the socket with {@code inode}. */
    static int descriptorOf(long inode) throws IOException {
        String target = "socket:[" + inode + "]";
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : fds) {
                try {
                    if (Files.readSymbolicLink(entry).toString().equals(target)) {
                        return Integer.parseInt(entry.getFileName().toString());
                    }
                } catch (IOException | NumberFormatException e) {
                    // a descriptor closed meanwhile, or the directory's own entry
                }
            }
        }
        throw new IOException("cannot find the descriptor of " + target);
    }
}

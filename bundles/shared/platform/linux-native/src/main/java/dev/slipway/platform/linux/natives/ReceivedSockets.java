package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Turns a socket descriptor received from the helper (SCM_RIGHTS) into a Java channel: listening
 * sockets for published ports, connected Unix sockets for the VM's engine channel and network link.
 *
 * <p>Java has no public way to wrap a descriptor in a channel, so a placeholder channel of the same
 * kind is bound to an ephemeral loopback port, its own descriptor is found without reflection
 * ({@link InetSockets#descriptorOfLoopbackSocket}: by its port), and the received socket is
 * {@code dup2}'d over it: the channel object now works on the helper's socket, and the placeholder
 * socket is gone. The received descriptor is closed after the copy. This is done while the channel is
 * still blocking, so that switching it to non-blocking afterwards sets O_NONBLOCK on the received
 * socket itself.
 */
public final class ReceivedSockets {

    private ReceivedSockets() {
    }

    /** A listening TCP channel on the received socket, bound to {@code address} (blocking). */
    public static ServerSocketChannel tcp(int received, InetAddress address) throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open(family(address));
        return adopt(s, received, address, true);
    }

    /** A UDP channel on the received socket, bound to {@code address} (blocking). */
    public static DatagramChannel udp(int received, InetAddress address) throws IOException {
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
            int placeholder = InetSockets.descriptorOfLoopbackSocket(tcp, v4, port);
            try {
                FileDescriptors.dup2(received, placeholder);
            } catch (IOException e) {
                throw new IOException("cannot take over the helper's socket: " + e.getMessage(), e);
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e instanceof IOException io ? io : new IOException("cannot take over the helper's socket: " + e.getMessage(), e);
        } finally {
            FileDescriptors.closeQuietly(received); // released even when close reports an error
        }
    }

    /**
     * A connected Unix stream channel on the received socket (blocking). The placeholder here is the
     * accepted end of a connection to a short-lived listener at {@code scratch} (a path in a
     * directory of this user's alone): procfs names an accepted socket by its listener's path.
     */
    public static SocketChannel unix(int received, Path scratch) throws IOException {
        try {
            Files.deleteIfExists(scratch);
            try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                listener.bind(UnixDomainSocketAddress.of(scratch), 1);
                try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(scratch))) {
                    SocketChannel accepted = listener.accept();
                    try {
                        FileDescriptors.dup2(received, UnixSockets.descriptorOfAcceptedSocket(scratch));
                        return accepted;
                    } catch (IOException | RuntimeException e) {
                        accepted.close();
                        throw new IOException("cannot take over the helper's socket: " + e.getMessage(), e);
                    }
                }
            } finally {
                Files.deleteIfExists(scratch);
            }
        } finally {
            FileDescriptors.closeQuietly(received);
        }
    }

    /** Closes a received descriptor that is not adopted (for example after a refusal further on). */
    public static void close(int received) {
        FileDescriptors.closeQuietly(received);
    }
}

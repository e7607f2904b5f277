package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectableChannel;

import com.sun.jna.Native;
import com.sun.jna.Platform;

import dev.slipway.platform.linux.natives.internal.Libc;

/**
 * Descriptors Java cannot select on (ping sockets), watched by a {@link java.nio.channels.Selector}
 * all the same: an epoll set, reached through a {@link SelectableChannel} whose descriptor is the
 * epoll instance. The channel is readable while a member has something to read or an error
 * queued; {@link #ready} then names the members, by the token each was added with. Closing the
 * channel (or this) closes the set; members stay open, they are their owners'.
 */
public final class ReadinessSet implements AutoCloseable {
    static final int EPOLL_CLOEXEC = 0x80000;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLLIN = 1;
    static final int EPOLLERR = 8;
    /** struct epoll_event is packed on x86_64 (12 bytes), naturally aligned elsewhere (16). */
    private static final int EVENT_SIZE = Platform.isIntel() ? 12 : 16;
    private static final int DATA_OFFSET = Platform.isIntel() ? 4 : 8;
    private static final int MAX_EVENTS = 64;

    private final DatagramChannel channel;
    private final int epollFd;
    private final ByteBuffer events = ByteBuffer.allocateDirect(EVENT_SIZE * MAX_EVENTS).order(ByteOrder.nativeOrder());
    private final long eventsAddress = FileDescriptors.address(events);
    private final ByteBuffer control = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
    private final long controlAddress = FileDescriptors.address(control);

    private ReadinessSet(DatagramChannel channel, int epollFd) {
        this.channel = channel;
        this.epollFd = epollFd;
    }

    /**
     * A new, empty set. Java makes a selectable channel only of its own sockets, so a datagram
     * channel is opened on loopback, its descriptor found (by its port), and that descriptor made
     * a copy of the epoll instance: the channel keeps the descriptor number the selector watches
     * and closes it when it closes.
     */
    public static ReadinessSet open() throws IOException {
        Natives.require();
        int epoll = Libc.epoll_create1(EPOLL_CLOEXEC);
        if (epoll < 0) {
            throw new ErrnoException("cannot create an epoll set", Native.getLastError());
        }
        DatagramChannel channel = null;
        try {
            channel = DatagramChannel.open(StandardProtocolFamily.INET);
            channel.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            int port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            int channelFd = InetSockets.descriptorOfLoopbackSocket(false, true, port);
            FileDescriptors.dup2(epoll, channelFd);
            channel.configureBlocking(false);
            return new ReadinessSet(channel, channelFd);
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                channel.close();
            }
            throw e;
        } finally {
            FileDescriptors.closeQuietly(epoll);
        }
    }

    /** The channel to register with a selector for {@link java.nio.channels.SelectionKey#OP_READ}. */
    public SelectableChannel channel() {
        return channel;
    }

    /** Watches {@code fd} for input and errors; {@link #ready} reports it as {@code token}. */
    public void add(int fd, int token) throws IOException {
        control.putInt(0, EPOLLIN | EPOLLERR);
        control.putLong(DATA_OFFSET, 0);
        control.putInt(DATA_OFFSET, token);
        if (Libc.epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, controlAddress) < 0) {
            throw new ErrnoException("cannot watch descriptor " + fd, Native.getLastError());
        }
    }

    /** Stops watching {@code fd} (before it is closed; closing it also ends the watch). */
    public void remove(int fd) {
        Libc.epoll_ctl(epollFd, EPOLL_CTL_DEL, fd, controlAddress);
    }

    /**
     * Writes the tokens of members ready now (without waiting) into {@code tokens}; their count, at
     * most {@code tokens.length}. Allocates nothing.
     */
    public int ready(int[] tokens) {
        int n = Libc.epoll_wait(epollFd, eventsAddress, Math.min(MAX_EVENTS, tokens.length), 0);
        if (n <= 0) {
            return 0;
        }
        for (int i = 0; i < n; i++) {
            tokens[i] = events.getInt(i * EVENT_SIZE + DATA_OFFSET);
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

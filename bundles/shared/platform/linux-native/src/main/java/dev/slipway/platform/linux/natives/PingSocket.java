package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import com.sun.jna.Memory;
import com.sun.jna.Native;

import dev.slipway.platform.linux.natives.internal.Libc;

/**
 * An unprivileged ICMP ("ping") socket: {@code socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)} or its
 * ICMPv6 twin, non-blocking, with the kernel's error queue on (IP_RECVERR / IPV6_RECVERR). The
 * kernel lets only the groups of {@code net.ipv4.ping_group_range} (one setting per network
 * namespace, for both families) open one; everyone else gets EACCES. The kernel writes its own
 * identifier into every echo request sent, and delivers only the replies carrying it.
 *
 * <p>Addresses are given as two longs: IPv4 as the address in the low 32 bits of {@code lo},
 * IPv6 as its high and low 64 bits. {@link #send} and {@link #receive} take direct buffers and
 * allocate nothing; a receive's sender or error is read from this object until the next receive.
 * Not thread-safe.
 */
public final class PingSocket implements AutoCloseable {
    static final int IPPROTO_IP = 0;
    static final int IPPROTO_ICMP = 1;
    static final int IPPROTO_ICMPV6 = 58;
    static final int IP_TTL = 2;
    static final int IP_RECVERR = 11;
    static final int IPV6_UNICAST_HOPS = 16;
    static final int IPV6_RECVERR = 25;
    static final int SOCK_NONBLOCK = 0x800;
    static final int MSG_TRUNC = 0x20;
    static final int MSG_ERRQUEUE = 0x2000;
    /** The error came from an ICMP message (the offender is its sender). */
    public static final int ORIGIN_ICMP = 2;
    /** The error came from an ICMPv6 message. */
    public static final int ORIGIN_ICMP6 = 3;
    /** The error arose on this host (for example EMSGSIZE). */
    public static final int ORIGIN_LOCAL = 1;

    private static final int MSGHDR = 0;
    private static final int IOVEC = 56;
    private static final int NAME = 72;
    private static final int DESTINATION = 104;
    private static final int CONTROL = 136;
    private static final int CONTROL_LEN = 192;

    private final int fd;
    private final boolean v6;
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(CONTROL + CONTROL_LEN).order(ByteOrder.nativeOrder());
    /** The same memory in network byte order, for addresses and ports. */
    private final ByteBuffer network = scratch.duplicate().order(ByteOrder.BIG_ENDIAN);
    private final long base;
    private long lastBuffer;
    private ByteBuffer lastBufferRef;
    private boolean closed;

    private long fromHi;
    private long fromLo;
    private boolean error;
    private int errorErrno;
    private int errorOrigin;
    private int errorType;
    private int errorCode;
    private boolean hasOffender;
    private long offenderHi;
    private long offenderLo;

    private PingSocket(int fd, boolean v6) {
        this.fd = fd;
        this.v6 = v6;
        this.base = FileDescriptors.address(scratch);
        short family = (short) (v6 ? InetSockets.AF_INET6 : InetSockets.AF_INET);
        scratch.putShort(DESTINATION, family);
    }

    /**
     * Opens a ping socket of the family.
     *
     * @throws ErrnoException EACCES when {@code net.ipv4.ping_group_range} leaves out every group of this process
     */
    public static PingSocket open(boolean v6) throws IOException {
        Natives.require();
        int fd = Libc.socket(v6 ? InetSockets.AF_INET6 : InetSockets.AF_INET,
                InetSockets.SOCK_DGRAM | SOCK_NONBLOCK | Descriptors.SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
        if (fd < 0) {
            int errno = Native.getLastError();
            throw new ErrnoException("cannot open an ICMP" + (v6 ? "v6" : "") + " ping socket", errno,
                    errno == Errno.EACCES ? "net.ipv4.ping_group_range leaves out every group of this process" : null);
        }
        try {
            setInt(fd, v6 ? InetSockets.IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, 1, "IP_RECVERR");
        } catch (IOException e) {
            FileDescriptors.closeQuietly(fd);
            throw e;
        }
        return new PingSocket(fd, v6);
    }

    static final int SO_TYPE = 3;
    static final int SO_PROTOCOL = 38;
    static final int SO_DOMAIN = 39;

    /**
     * Goes on with a ping socket this process opened before (a previous version of its owner handed
     * the descriptor over): checked to be a datagram socket of the family's ICMP protocol first.
     */
    public static PingSocket adopt(int fd, boolean v6) throws IOException {
        Natives.require();
        int domain = intOption(fd, SO_DOMAIN);
        int type = intOption(fd, SO_TYPE);
        int protocol = intOption(fd, SO_PROTOCOL);
        if (domain != (v6 ? InetSockets.AF_INET6 : InetSockets.AF_INET) || type != InetSockets.SOCK_DGRAM
                || protocol != (v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
            throw new IOException("descriptor " + fd + " is not an ICMP" + (v6 ? "v6" : "") + " ping socket (domain " + domain
                    + ", type " + type + ", protocol " + protocol + ")");
        }
        return new PingSocket(fd, v6);
    }

    private static int intOption(int fd, int name) throws IOException {
        int[] value = new int[1];
        int[] length = {4};
        if (Libc.getsockopt(fd, InetSockets.SOL_SOCKET, name, value, length) < 0) {
            throw new ErrnoException("cannot read descriptor " + fd + " as a socket", Native.getLastError());
        }
        return value[0];
    }

    private static void setInt(int fd, int level, int name, int value, String what) throws IOException {
        Memory cell = new Memory(4);
        cell.setInt(0, value);
        if (Libc.setsockopt(fd, level, name, cell, 4) < 0) {
            throw new ErrnoException("cannot set " + what + " on a ping socket", Native.getLastError());
        }
    }

    public int descriptor() {
        return fd;
    }

    public boolean v6() {
        return v6;
    }

    /** The TTL (IPv6: hop limit) of the requests sent from now on, 1 to 255. */
    public void ttl(int ttl) throws IOException {
        if (ttl < 1 || ttl > 255) {
            throw new IllegalArgumentException("a TTL is 1 to 255, not " + ttl);
        }
        setInt(fd, v6 ? InetSockets.IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_UNICAST_HOPS : IP_TTL, ttl, "the TTL");
    }

    /**
     * Sends the ICMP echo request at {@code [offset, offset + length)} of the direct buffer
     * {@code message} to the address; the bytes sent, or minus the errno (EAGAIN when the socket's
     * buffer is full, EHOSTUNREACH, ENETUNREACH, EPERM from a firewall rule, ...).
     */
    public int send(ByteBuffer message, int offset, int length, long addressHi, long addressLo) {
        if (offset < 0 || length < 0 || offset + length > message.capacity()) {
            throw new IndexOutOfBoundsException("the message lies outside its buffer");
        }
        int addressLength;
        if (v6) {
            scratch.putInt(DESTINATION + 4, 0);
            network.putLong(DESTINATION + 8, addressHi).putLong(DESTINATION + 16, addressLo);
            scratch.putInt(DESTINATION + 24, 0);
            addressLength = 28;
        } else {
            scratch.putShort(DESTINATION + 2, (short) 0);
            network.putInt(DESTINATION + 4, (int) addressLo);
            scratch.putLong(DESTINATION + 8, 0);
            addressLength = 16;
        }
        long sent = Libc.sendto(fd, address(message) + offset, length, Descriptors.MSG_DONTWAIT, base + DESTINATION, addressLength);
        return sent < 0 ? -Native.getLastError() : (int) sent;
    }

    /**
     * Receives what the socket has: first a queued error (then {@link #wasError()} and its details
     * describe it, and the bytes are the start of the request it is about), else a reply (from
     * {@link #fromHi()}/{@link #fromLo()}). Returns the length copied to {@code [offset, offset + capacity)}
     * of the direct buffer, or minus the errno: EAGAIN when there is nothing.
     */
    public int receive(ByteBuffer into, int offset, int capacity) {
        if (offset < 0 || capacity < 0 || offset + capacity > into.capacity()) {
            throw new IndexOutOfBoundsException("the space lies outside its buffer");
        }
        long data = address(into) + offset;
        int n = receive(data, capacity, MSG_ERRQUEUE);
        if (n != -Errno.EAGAIN) {
            return n;
        }
        n = receive(data, capacity, 0);
        if (n < 0 && n != -Errno.EAGAIN) {
            // the error of an ICMP message is also reported once as the socket's pending error: its queued copy says more
            int queued = receive(data, capacity, MSG_ERRQUEUE);
            return queued == -Errno.EAGAIN ? n : queued;
        }
        return n;
    }

    private int receive(long data, int capacity, int flags) {
        ByteBuffer s = scratch;
        s.putLong(IOVEC, data);
        s.putLong(IOVEC + 8, capacity);
        s.putLong(MSGHDR, base + NAME);
        s.putInt(MSGHDR + 8, 28);
        s.putInt(MSGHDR + 12, 0);
        s.putLong(MSGHDR + 16, base + IOVEC);
        s.putLong(MSGHDR + 24, 1);
        s.putLong(MSGHDR + 32, base + CONTROL);
        s.putLong(MSGHDR + 40, CONTROL_LEN);
        s.putInt(MSGHDR + 48, 0);
        long n = Libc.recvmsg(fd, base + MSGHDR, flags | Descriptors.MSG_DONTWAIT);
        if (n < 0) {
            return -Native.getLastError();
        }
        error = false;
        hasOffender = false;
        if ((flags & MSG_ERRQUEUE) != 0) {
            parseError();
        } else {
            fromHi = addressHi(NAME);
            fromLo = addressLo(NAME);
        }
        return (int) Math.min(n, capacity);
    }

    /** Finds the sock_extended_err among the control messages of the last receive. */
    private void parseError() {
        ByteBuffer s = scratch;
        long controlLength = s.getLong(MSGHDR + 40);
        int level = v6 ? InetSockets.IPPROTO_IPV6 : IPPROTO_IP;
        int type = v6 ? IPV6_RECVERR : IP_RECVERR;
        int at = 0;
        for (int guard = 0; guard < 8 && at + 16 <= controlLength; guard++) {
            long length = s.getLong(CONTROL + at);
            if (length < 16 || at + length > controlLength) {
                return;
            }
            if (s.getInt(CONTROL + at + 8) == level && s.getInt(CONTROL + at + 12) == type && length >= 16 + 16) {
                int ee = CONTROL + at + 16;
                error = true;
                errorErrno = s.getInt(ee);
                errorOrigin = s.get(ee + 4) & 0xff;
                errorType = s.get(ee + 5) & 0xff;
                errorCode = s.get(ee + 6) & 0xff;
                int offender = ee + 16;
                int family = s.getShort(offender) & 0xffff;
                hasOffender = length >= 16 + 16 + (v6 ? 28 : 16)
                        && family == (v6 ? InetSockets.AF_INET6 : InetSockets.AF_INET);
                if (hasOffender) {
                    offenderHi = addressHi(offender);
                    offenderLo = addressLo(offender);
                }
                return;
            }
            at += (int) ((length + 7) & ~7L);
        }
    }

    private long addressHi(int sockaddr) {
        return v6 ? network.getLong(sockaddr + 8) : 0;
    }

    private long addressLo(int sockaddr) {
        return v6 ? network.getLong(sockaddr + 16) : network.getInt(sockaddr + 4) & 0xffff_ffffL;
    }

    private long address(ByteBuffer direct) {
        if (direct != lastBufferRef) {
            if (!direct.isDirect()) {
                throw new IllegalArgumentException("a ping socket reads and writes direct buffers only");
            }
            lastBuffer = FileDescriptors.address(direct);
            lastBufferRef = direct;
        }
        return lastBuffer;
    }

    public long fromHi() {
        return fromHi;
    }

    public long fromLo() {
        return fromLo;
    }

    /** Whether the last receive took an error from the error queue. */
    public boolean wasError() {
        return error;
    }

    /** The errno of the last error (EHOSTUNREACH, ...). */
    public int errorErrno() {
        return errorErrno;
    }

    /** Where the last error came from: {@link #ORIGIN_ICMP}, {@link #ORIGIN_ICMP6}, {@link #ORIGIN_LOCAL}, ... */
    public int errorOrigin() {
        return errorOrigin;
    }

    /** The ICMP type of the last error when it came from an ICMP message. */
    public int errorType() {
        return errorType;
    }

    public int errorCode() {
        return errorCode;
    }

    /** Whether the last error names the host whose ICMP message reported it. */
    public boolean hasOffender() {
        return hasOffender;
    }

    public long offenderHi() {
        return offenderHi;
    }

    public long offenderLo() {
        return offenderLo;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            FileDescriptors.closeQuietly(fd);
        }
    }
}

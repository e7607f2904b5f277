package dev.slipway.networking.stack.transport;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import dev.slipway.platform.linux.natives.Errno;
import dev.slipway.platform.linux.natives.FileDescriptors;
import dev.slipway.platform.linux.natives.TapDevice;

/**
 * A Linux tap device (IFF_TAP | IFF_NO_PI) carrying the guest's frames. The device is created in
 * the caller's network namespace; moving it into another namespace afterwards keeps this
 * descriptor working, which is how a namespace becomes the "VM".
 *
 * <p>The descriptor is non-blocking: the reader drains every queued frame, tells the stack the
 * batch ended (so acknowledgements and host writes are coalesced), then polls with no timeout: close() wakes it.
 */
public final class TapTransport implements Transport {
    private static final int ADDRESS_CACHE_SLOTS = 256;
    private static final int VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    private static final int VIRTIO_NET_HDR_GSO_TCPV4 = 1;
    private static final int VIRTIO_NET_HDR_GSO_TCPV6 = 4;
    /** TUNSETOFFLOAD's flag for IPv6 TCP segmentation offload (linux/if_tun.h), beside TapDevice's TUN_F_TSO4. */
    private static final int TUN_F_TSO6 = 0x04;
    private final String name;
    private final int fd;
    private final ByteBuffer in;
    private final ByteBuffer frame;
    private final long inAddress;
    private final ByteBuffer vnetOut;
    private final ByteBuffer iov;
    private final long iovAddress;
    /** struct pollfd[2]: the device, then {@link #wakeFd}. */
    private final ByteBuffer pollFd = ByteBuffer.allocateDirect(16).order(java.nio.ByteOrder.nativeOrder());
    private final long pollAddress;
    /**
     * Written by {@link #close()} so that the reader, blocked in poll with no timeout, sees the close at
     * once: an idle link then costs no wake-ups at all.
     */
    private final int wakeFd;
    private final ByteBuffer wakeValue = ByteBuffer.allocateDirect(8).order(java.nio.ByteOrder.nativeOrder());
    private volatile boolean open = true;
    private boolean reading;
    private boolean fdClosed;
    /** Handed over to the next version: the descriptor stays open. */
    private boolean detached;
    /**
     * Native addresses of the buffers frames are sent from, by identity hash: the stack's buffers are
     * pooled, so they recur. Weak, so that a buffer the pool let go is not kept alive.
     */
    private final WeakReference<?>[] cached = new WeakReference<?>[ADDRESS_CACHE_SLOTS];
    private final long[] cachedAddress = new long[ADDRESS_CACHE_SLOTS];

    private TapTransport(String name, int fd, int mtu) throws IOException {
        this.name = name;
        this.fd = fd;
        try {
            this.wakeFd = FileDescriptors.eventfd();
        } catch (IOException e) {
            FileDescriptors.closeQuietly(fd);
            throw e;
        }
        wakeValue.putLong(0, 1);
        // with TSO the guest hands over segments up to 64 KiB whatever the MTU
        this.in = ByteBuffer.allocateDirect(TapDevice.VNET_HDR_LEN + 65536 + 64);
        this.inAddress = FileDescriptors.address(in);
        this.frame = in.slice(TapDevice.VNET_HDR_LEN, in.capacity() - TapDevice.VNET_HDR_LEN);
        this.vnetOut = ByteBuffer.allocateDirect(TapDevice.VNET_HDR_LEN).order(ByteOrder.nativeOrder());
        // struct iovec[3]: the virtio-net header, then the frame (or its headers and its payload)
        this.iov = ByteBuffer.allocateDirect(48).order(ByteOrder.nativeOrder());
        this.iovAddress = FileDescriptors.address(iov);
        iov.putLong(0, FileDescriptors.address(vnetOut));
        iov.putLong(8, TapDevice.VNET_HDR_LEN);
        this.pollAddress = FileDescriptors.address(pollFd);
        pollFd.putInt(0, fd);
        pollFd.putShort(4, FileDescriptors.POLLIN);
        pollFd.putInt(8, wakeFd);
        pollFd.putShort(12, FileDescriptors.POLLIN);
    }

    /** Creates the tap device {@code name} in the current network namespace. */
    public static TapTransport create(String name, int mtu) throws IOException {
        return new TapTransport(name, TapDevice.open(name, TapDevice.IFF_TAP | TapDevice.IFF_NO_PI | TapDevice.IFF_VNET_HDR,
                TapDevice.TUN_F_CSUM | TapDevice.TUN_F_TSO4 | TUN_F_TSO6), mtu);
    }

    /** Goes on with the tap descriptor {@code fd} of device {@code name} that a previous version of the stack opened. */
    public static TapTransport adopt(String name, int fd, int mtu) throws IOException {
        return new TapTransport(name, fd, mtu);
    }

    @Override
    public java.util.Map<String, Object> detach() {
        synchronized (this) {
            if (fdClosed) {
                return null;
            }
            detached = true;
            open = false;
            if (reading) {
                FileDescriptors.write(wakeFd, FileDescriptors.address(wakeValue), 8);
            } else {
                FileDescriptors.closeQuietly(wakeFd);
            }
            long until = System.nanoTime() + 2_000_000_000L;
            while (reading && System.nanoTime() < until) {
                try {
                    wait(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        return java.util.Map.of(LinkHandover.KIND, LinkHandover.TAP, LinkHandover.FD, fd, LinkHandover.DEVICE, name);
    }

    /** The interface name of the device. */
    public String device() {
        return name;
    }

    @Override
    public String name() {
        return "tap " + name;
    }

    @Override
    public void run(FrameReceiver receiver) throws IOException {
        synchronized (this) {
            if (!open) {
                return;
            }
            reading = true;
        }
        try {
            readFrames(receiver);
        } finally {
            readerDone();
        }
    }

    private void readFrames(FrameReceiver receiver) throws IOException {
        int capacity = in.capacity();
        while (open) {
            long n = FileDescriptors.read(fd, inAddress, capacity);
            if (n > TapDevice.VNET_HDR_LEN) {
                frame.clear().limit((int) n - TapDevice.VNET_HDR_LEN);
                if ((in.get(0) & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0) {
                    receiver.framePartialChecksum(frame);
                } else {
                    receiver.frame(frame);
                }
                continue;
            }
            if (n > 0) {
                continue;
            }
            if (n == 0) {
                return;
            }
            int errno = FileDescriptors.lastError();
            if (errno == Errno.EAGAIN) {
                receiver.endOfBatch();
                pollFd.putShort(6, (short) 0);
                pollFd.putShort(14, (short) 0);
                int r = FileDescriptors.poll(pollAddress, 2, -1);
                int pollErrno = r < 0 ? FileDescriptors.lastError() : 0;
                if (r < 0 && pollErrno != Errno.EINTR) {
                    throw new IOException("poll on " + name + " failed: " + Errno.describe(pollErrno));
                }
            } else if (errno == Errno.EBADFD) {
                return; // the device is gone (its namespace was deleted): the end of this link, not a failure
            } else if (errno != Errno.EINTR) {
                if (!open) {
                    return;
                }
                throw new IOException("reading " + name + " failed: " + Errno.describe(errno));
            }
        }
    }

    @Override
    public boolean segmentationOffload() {
        return true;
    }

    @Override
    public void send(ByteBuffer frame) throws IOException {
        send(frame, 0);
    }

    @Override
    public void send(ByteBuffer frame, int gsoSize) throws IOException {
        checkSendable(frame);
        long n;
        int errno;
        synchronized (cached) {
            virtioHeader(frame, frame.remaining(), gsoSize);
            iov.putLong(16, addressOf(frame) + frame.position());
            iov.putLong(24, frame.remaining());
            n = FileDescriptors.writev(fd, iovAddress, 2);
            errno = n < 0 ? FileDescriptors.lastError() : 0;
        }
        if (n < 0) {
            throw writeFailure(errno);
        }
    }

    /** EAGAIN: the device's queue is full (the guest is not reading fast enough), which the stack waits out. */
    private IOException writeFailure(int errno) {
        if (errno == Errno.EAGAIN) {
            return LinkFullException.INSTANCE;
        }
        return new IOException("writing to " + name + " failed: " + Errno.describe(errno));
    }

    @Override
    public boolean gathersFrames() {
        return true;
    }

    @Override
    public void send(ByteBuffer headers, ByteBuffer payload, int gsoSize) throws IOException {
        checkSendable(headers);
        checkSendable(payload);
        long n;
        int errno;
        synchronized (cached) {
            virtioHeader(headers, headers.remaining() + payload.remaining(), gsoSize);
            iov.putLong(16, addressOf(headers) + headers.position());
            iov.putLong(24, headers.remaining());
            iov.putLong(32, addressOf(payload) + payload.position());
            iov.putLong(40, payload.remaining());
            n = FileDescriptors.writev(fd, iovAddress, 3);
            errno = n < 0 ? FileDescriptors.lastError() : 0;
        }
        if (n < 0) {
            throw writeFailure(errno);
        }
    }

    private void checkSendable(ByteBuffer b) throws IOException {
        if (!open) {
            throw new IOException(name + " is closed");
        }
        if (!b.isDirect()) {
            throw new IOException("frames must be in direct buffers");
        }
    }

    /** Fills {@link #vnetOut} for a frame of {@code frameLength} bytes whose headers start at {@code headers}' position. */
    private void virtioHeader(ByteBuffer headers, int frameLength, int gsoSize) {
        if (gsoSize > 0) {
            int p = headers.position();
            boolean ipv6 = (headers.getShort(p + 12) & 0xffff) == 0x86dd;
            int ipHeader = ipv6 ? 40 : 20; // the stack sends IPv6 segments without extension headers
            int headerLength = 14 + ipHeader + (headers.get(p + 14 + ipHeader + 12) >> 4 & 15) * 4;
            boolean segment = frameLength - headerLength > gsoSize;
            vnetOut.put(0, (byte) VIRTIO_NET_HDR_F_NEEDS_CSUM);
            vnetOut.put(1, (byte) (segment ? (ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) : 0));
            vnetOut.putShort(2, (short) headerLength);
            vnetOut.putShort(4, (short) (segment ? gsoSize : 0));
            vnetOut.putShort(6, (short) (14 + ipHeader));
            vnetOut.putShort(8, (short) 16);
        } else {
            vnetOut.putLong(0, 0);
            vnetOut.putShort(8, (short) 0);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            open = false;
            if (fdClosed || detached) {
                return;
            }
            if (reading) {
                FileDescriptors.write(wakeFd, FileDescriptors.address(wakeValue), 8);
            } else {
                fdClosed = true;
                FileDescriptors.closeQuietly(fd);
                FileDescriptors.closeQuietly(wakeFd);
            }
        }
    }

    private void readerDone() {
        synchronized (this) {
            reading = false;
            open = false;
            if (detached) {
                FileDescriptors.closeQuietly(wakeFd);
            } else if (!fdClosed) {
                fdClosed = true;
                FileDescriptors.closeQuietly(fd);
                FileDescriptors.closeQuietly(wakeFd);
            }
            notifyAll();
        }
    }

    /** The native address of a direct buffer (looking it up allocates, so it is remembered). */
    private long addressOf(ByteBuffer b) {
        int slot = System.identityHashCode(b) & (ADDRESS_CACHE_SLOTS - 1);
        WeakReference<?> known = cached[slot];
        if (known != null && known.get() == b) {
            return cachedAddress[slot];
        }
        long a = FileDescriptors.address(b);
        cached[slot] = new WeakReference<>(b);
        cachedAddress[slot] = a;
        return a;
    }
}

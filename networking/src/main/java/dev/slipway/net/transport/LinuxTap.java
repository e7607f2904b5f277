package dev.slipway.net.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;

/**
 * The libc calls behind the tap transport, bound with JNA direct mapping (primitive arguments only,
 * so a call costs no allocation). Buffers are passed as native addresses.
 */
final class LinuxTap {
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int EAGAIN = 11;
    static final int EINTR = 4;
    static final int EBADFD = 77;
    static final short POLLIN = 1;
    static final long TUNSETIFF = 0x400454caL;
    static final short IFF_TAP = 0x0002;
    static final short IFF_NO_PI = 0x1000;
    static final short IFF_VNET_HDR = 0x4000;
    static final long TUNSETOFFLOAD = 0x400454d0L;
    static final int TUN_F_CSUM = 0x01;
    static final int TUN_F_TSO4 = 0x02;
    /** struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset (host byte order). */
    static final int VNET_HDR_LEN = 10;

    private static final boolean LOADED;
    private static final Throwable LOAD_ERROR;

    static {
        boolean ok = false;
        Throwable error = null;
        try {
            if (Platform.isLinux()) {
                Native.register(LinuxTap.class, Platform.C_LIBRARY_NAME);
                ok = true;
            } else {
                error = new UnsupportedOperationException("tap devices exist on Linux only");
            }
        } catch (Throwable t) {
            error = t;
        }
        LOADED = ok;
        LOAD_ERROR = error;
    }

    private LinuxTap() {}

    static native int open(String path, int flags);

    static native int ioctl(int fd, NativeLong request, byte[] ifreq);

    static native int ioctl(int fd, NativeLong request, NativeLong argument);

    static native long read(int fd, long buffer, long count);

    static native long write(int fd, long buffer, long count);

    static native long writev(int fd, long iov, int count);

    static native int poll(long fds, long count, int timeoutMillis);

    static native int close(int fd);

    static void ensureLoaded() throws IOException {
        if (!LOADED) {
            throw new IOException("cannot bind libc for the tap device: " + LOAD_ERROR, LOAD_ERROR);
        }
    }

    /**
     * Opens {@code /dev/net/tun} as the tap device {@code name}, with a virtio-net header on every
     * frame and checksum and TSO offload accepted from the guest; returns its descriptor.
     */
    static int openTap(String name) throws IOException {
        ensureLoaded();
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length > 15) {
            throw new IOException("a tap device name has 1 to 15 characters: " + name);
        }
        int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            throw new IOException("cannot open /dev/net/tun: errno " + Native.getLastError()
                    + (Native.getLastError() == 1 || Native.getLastError() == 13 ? " (needs root or CAP_NET_ADMIN)" : ""));
        }
        byte[] ifreq = new byte[40];
        System.arraycopy(nameBytes, 0, ifreq, 0, nameBytes.length);
        short flags = (short) (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
        ifreq[16] = (byte) flags;
        ifreq[17] = (byte) (flags >> 8);
        if (ioctl(fd, new NativeLong(TUNSETIFF), ifreq) < 0) {
            int errno = Native.getLastError();
            close(fd);
            throw new IOException("cannot create tap device " + name + ": errno " + errno
                    + (errno == 1 ? " (needs root or CAP_NET_ADMIN)" : ""));
        }
        if (ioctl(fd, new NativeLong(TUNSETOFFLOAD), new NativeLong(TUN_F_CSUM | TUN_F_TSO4)) < 0) {
            int errno = Native.getLastError();
            close(fd);
            throw new IOException("cannot enable offloads on tap device " + name + ": errno " + errno);
        }
        return fd;
    }

    static long address(ByteBuffer direct) {
        return com.sun.jna.Pointer.nativeValue(Native.getDirectBufferPointer(direct));
    }
}

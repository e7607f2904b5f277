package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import dev.slipway.platform.linux.natives.internal.Libc;

/**
 * Tap devices: {@link #open} makes one and returns its descriptor; frames then move with
 * {@link FileDescriptors#read}, {@link FileDescriptors#writev} and {@link FileDescriptors#poll},
 * allocation-free.
 */
public final class TapDevice {
    /** The clone device every tun/tap device is made through. */
    public static final String TUN_DEVICE = "/dev/net/tun";
    public static final int IFF_TAP = 0x0002;
    public static final int IFF_NO_PI = 0x1000;
    public static final int IFF_VNET_HDR = 0x4000;
    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    /** struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset (host byte order). */
    public static final int VNET_HDR_LEN = 10;
    /** An interface name's longest length (IFNAMSIZ less its terminating zero). */
    public static final int MAX_NAME_LENGTH = 15;
    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETOFFLOAD = 0x400454d0L;
    private static final String NEEDS_PRIVILEGE = "tap devices need root or CAP_NET_ADMIN";

    private TapDevice() {
    }

    /**
     * Opens {@value #TUN_DEVICE} as the tap device {@code name} (made in the caller's network
     * namespace) with the interface {@code flags} ({@link #IFF_TAP} | {@link #IFF_NO_PI}, and
     * {@link #IFF_VNET_HDR} for a virtio-net header on every frame), then accepts the
     * {@code offloads} ({@link #TUN_F_CSUM} | {@link #TUN_F_TSO4}; 0 for none). The descriptor is
     * non-blocking and close-on-exec; the device goes when it is closed.
     */
    public static int open(String name, int flags, int offloads) throws IOException {
        return open(TUN_DEVICE, name, flags, offloads);
    }

    static int open(String tunDevice, String name, int flags, int offloads) throws IOException {
        Natives.require();
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        if (nameBytes.length == 0 || nameBytes.length > MAX_NAME_LENGTH) {
            throw new IOException("a tap device name has 1 to " + MAX_NAME_LENGTH + " characters: " + name);
        }
        int fd = Libc.open(tunDevice, FileDescriptors.O_RDWR | FileDescriptors.O_NONBLOCK | FileDescriptors.O_CLOEXEC, 0);
        if (fd < 0) {
            int errno = Native.getLastError();
            throw new ErrnoException("cannot open " + tunDevice, errno, switch (errno) {
                case Errno.EPERM, Errno.EACCES -> NEEDS_PRIVILEGE;
                case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> "this kernel offers no tun/tap devices (load the tun module: modprobe tun)";
                default -> null;
            });
        }
        byte[] ifreq = new byte[40]; // struct ifreq: the name, then ifr_flags
        System.arraycopy(nameBytes, 0, ifreq, 0, nameBytes.length);
        ifreq[16] = (byte) flags;
        ifreq[17] = (byte) (flags >> 8);
        if (Libc.ioctl(fd, new NativeLong(TUNSETIFF), ifreq) < 0) {
            int errno = Native.getLastError();
            Libc.close(fd);
            throw new ErrnoException("cannot create tap device " + name, errno, switch (errno) {
                case Errno.EPERM, Errno.EACCES -> NEEDS_PRIVILEGE;
                case Errno.EBUSY -> "a device of that name exists and is in use";
                case Errno.EINVAL -> "a device of that name exists and is not a tap device";
                case Errno.ENOTTY, Errno.EBADFD -> tunDevice + " is not the tun/tap clone device";
                default -> null;
            });
        }
        if (offloads != 0 && Libc.ioctl(fd, new NativeLong(TUNSETOFFLOAD), new NativeLong(offloads)) < 0) {
            int errno = Native.getLastError();
            Libc.close(fd);
            throw new ErrnoException("cannot enable offloads on tap device " + name, errno);
        }
        return fd;
    }
}

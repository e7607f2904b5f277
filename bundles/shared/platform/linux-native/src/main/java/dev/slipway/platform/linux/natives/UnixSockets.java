package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

import dev.slipway.platform.linux.natives.internal.Libc;

/**
 * A Unix stream socket held by its descriptor, for connections that receive descriptors
 * ({@link DescriptorReceiver}): Java's Unix channels cannot.
 */
public final class UnixSockets {
    /** sun_path's size in struct sockaddr_un, its terminating zero included. */
    public static final int MAX_PATH_BYTES = 108;
    static final int SOL_SOCKET = 1;
    static final int SO_RCVTIMEO = 20;
    static final int SO_SNDTIMEO = 21;
    static final int SO_PEERCRED = 17;

    private UnixSockets() {
    }

    /** A new, unconnected Unix stream socket, close-on-exec. */
    public static int open() throws IOException {
        Natives.require();
        int fd = Libc.socket(Descriptors.AF_UNIX, Descriptors.SOCK_STREAM | Descriptors.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new ErrnoException("cannot create a socket", Native.getLastError());
        }
        return fd;
    }

    /** Sets the send and receive timeouts (whole seconds, at least one); a read that times out fails with EAGAIN. */
    public static void setTimeouts(int fd, Duration timeout) throws IOException {
        Natives.require();
        Memory timeval = new Memory(2L * NativeLong.SIZE); // struct timeval: seconds, microseconds
        timeval.setNativeLong(0, new NativeLong(Math.max(1, timeout.toSeconds())));
        timeval.setNativeLong(NativeLong.SIZE, new NativeLong(0));
        for (int option : new int[] {SO_RCVTIMEO, SO_SNDTIMEO}) {
            if (Libc.setsockopt(fd, SOL_SOCKET, option, timeval, (int) timeval.size()) < 0) {
                throw new ErrnoException("cannot set a socket timeout", Native.getLastError());
            }
        }
    }

    /** The struct sockaddr_un of {@code path}; fails when the path does not fit. */
    public static byte[] address(Path path) throws IOException {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= MAX_PATH_BYTES) {
            throw new IOException("a Unix socket path has at most " + (MAX_PATH_BYTES - 1) + " bytes: " + path);
        }
        byte[] address = new byte[2 + bytes.length + 1];
        // sa_family_t in host order, then the path and its terminating zero
        address[ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 0 : 1] = Descriptors.AF_UNIX;
        System.arraycopy(bytes, 0, address, 2, bytes.length);
        return address;
    }

    /** connect(2) to the Unix socket at {@code path}; the errno (EACCES, ENOENT, ECONNREFUSED) tells why not. */
    public static void connect(int fd, Path path) throws IOException {
        Natives.require();
        byte[] address = address(path);
        if (Libc.connect(fd, address, address.length) < 0) {
            throw new ErrnoException("cannot connect to " + path, Native.getLastError());
        }
    }

    /**
     * A new Unix stream socket (close-on-exec) bound to {@code path} and listening. The file gets the
     * process's umask: callers bind in a directory that only the intended peers can enter.
     */
    public static int listen(Path path, int backlog) throws IOException {
        byte[] address = address(path);
        int fd = open();
        try {
            if (Libc.bind(fd, address, address.length) < 0) {
                throw new ErrnoException("cannot bind " + path, Native.getLastError());
            }
            if (Libc.listen(fd, backlog) < 0) {
                throw new ErrnoException("cannot listen on " + path, Native.getLastError());
            }
            return fd;
        } catch (IOException | RuntimeException e) {
            FileDescriptors.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * This process's descriptor of the one connection accepted on the listener bound at
     * {@code listenerPath} (procfs names an accepted socket by its listener's path; state 03,
     * connected). Lets a Java channel be found by the socket it holds, as
     * {@link InetSockets#descriptorOfLoopbackSocket} does for loopback ports.
     */
    public static int descriptorOfAcceptedSocket(Path listenerPath) throws IOException {
        String path = listenerPath.toString();
        long inode = -1;
        List<String> lines = Files.readAllLines(Path.of("/proc/net/unix"));
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            // Num RefCount Protocol Flags Type St Inode Path
            String[] f = line.trim().split("\\s+", 8);
            if (f.length == 8 && f[7].equals(path) && f[5].equals("03")) {
                if (inode >= 0) {
                    throw new IOException("more than one connection was accepted on " + path);
                }
                inode = Long.parseLong(f[6]);
            }
        }
        if (inode < 0) {
            throw new IOException("cannot find a connection accepted on " + path + " in /proc/net/unix");
        }
        return InetSockets.descriptorOf(inode);
    }

    /** Sends all of {@code data} (without SIGPIPE when the peer is gone). */
    public static void sendAll(int fd, byte[] data) throws IOException {
        Natives.require();
        Memory buffer = new Memory(Math.max(1, data.length));
        buffer.write(0, data, 0, data.length);
        long sent = 0;
        while (sent < data.length) {
            long n = Libc.send(fd, buffer.share(sent), data.length - sent, Descriptors.MSG_NOSIGNAL);
            if (n < 0) {
                int errno = Native.getLastError();
                if (errno == Errno.EINTR) {
                    continue;
                }
                throw new ErrnoException("cannot send", errno);
            }
            sent += n;
        }
    }

    /**
     * A new stream socket (close-on-exec) connected to the socket file open on {@code pathFd}, an
     * {@code O_PATH} descriptor ({@link FileDescriptors#O_PATH}): the connection goes through
     * {@link FileDescriptors#path}, which reaches that very file, so a name swapped after the
     * descriptor was checked is never reached. The socket is closed again when the connect fails.
     *
     * @throws ErrnoException ECONNREFUSED when nothing listens there (or it is not a socket), EACCES
     */
    public static int connectThrough(int pathFd) throws IOException {
        int fd = open();
        try {
            connect(fd, FileDescriptors.path(pathFd));
            return fd;
        } catch (IOException | RuntimeException e) {
            FileDescriptors.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * The uid of the process at the other end of the connected Unix socket {@code fd}, as the kernel
     * recorded it when the connection was made (SO_PEERCRED).
     */
    public static int peerUid(int fd) throws IOException {
        Natives.require();
        int[] credentials = new int[3]; // struct ucred: pid, uid, gid
        int[] length = {12};
        if (Libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, credentials, length) < 0) {
            throw new ErrnoException("cannot read the peer of a socket", Native.getLastError());
        }
        if (length[0] < 12) {
            throw new IOException("cannot read the peer of a socket: getsockopt returned " + length[0] + " bytes");
        }
        return credentials[1];
    }
}

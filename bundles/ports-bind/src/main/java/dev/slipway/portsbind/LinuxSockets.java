package dev.slipway.portsbind;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalInt;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The few socket calls Java has no API for (binding a socket whose descriptor is then handed to another
 * process, and sending it with SCM_RIGHTS), through JNA. Linux LP64 only (x86_64, aarch64): the
 * constants and the msghdr/cmsghdr layouts below are that ABI's.
 */
final class LinuxSockets {

    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int SCM_RIGHTS = 1;
    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_V6ONLY = 26;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int EACCES = 13;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;

    /** The abstract Unix address prefix a caller binds its connection to, followed by its token. */
    static final String REPLY_PREFIX = "slipway-ports-";

    interface C extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        int setsockopt(int fd, int level, int name, int[] value, int length) throws LastErrorException;

        int bind(int fd, byte[] address, int length) throws LastErrorException;

        int listen(int fd, int backlog) throws LastErrorException;

        int getpeername(int fd, byte[] address, int[] length) throws LastErrorException;

        long sendmsg(int fd, Pointer message, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private final C c;

    LinuxSockets() {
        this.c = Native.load("c", C.class);
    }

    /**
     * A socket bound to {@code address:port} (listening when TCP), with SO_REUSEADDR so a port left in
     * TIME-WAIT by a previous runtime can be bound again.
     */
    int bind(boolean tcp, InetAddress address, int port) throws LastErrorException {
        boolean v4 = address instanceof Inet4Address;
        int fd = c.socket(v4 ? AF_INET : AF_INET6, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
        try {
            c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, new int[] {1}, 4);
            if (!v4) {
                c.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, new int[] {1}, 4);
            }
            byte[] sockaddr = v4 ? new byte[16] : new byte[28];
            sockaddr[0] = (byte) (v4 ? AF_INET : AF_INET6);
            sockaddr[2] = (byte) (port >> 8);
            sockaddr[3] = (byte) port;
            System.arraycopy(address.getAddress(), 0, sockaddr, v4 ? 4 : 8, v4 ? 4 : 16);
            c.bind(fd, sockaddr, sockaddr.length);
            if (tcp) {
                c.listen(fd, 1024);
            }
            return fd;
        } catch (LastErrorException e) {
            close(fd);
            throw e;
        }
    }

    /**
     * The descriptor of the connection whose peer is bound to the abstract address
     * {@code \0slipway-ports-TOKEN}: the caller's end of a helper connection, found among this
     * process's own sockets.
     */
    OptionalInt connectionOf(String token) throws IOException {
        byte[] wanted = abstractAddress(REPLY_PREFIX + token);
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : fds) {
                int fd;
                try {
                    fd = Integer.parseInt(entry.getFileName().toString());
                    if (!Files.readSymbolicLink(entry).toString().startsWith("socket:")) {
                        continue;
                    }
                } catch (NumberFormatException | IOException e) {
                    continue;
                }
                byte[] peer = new byte[110];
                int[] length = {peer.length};
                try {
                    c.getpeername(fd, peer, length);
                } catch (LastErrorException e) {
                    continue;
                }
                if (length[0] == wanted.length && Arrays.equals(Arrays.copyOf(peer, length[0]), wanted)) {
                    return OptionalInt.of(fd);
                }
            }
        }
        return OptionalInt.empty();
    }

    /** sockaddr_un of an abstract name: family, a NUL, the name (no terminating NUL). */
    static byte[] abstractAddress(String name) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        byte[] a = new byte[3 + n.length];
        a[0] = (byte) AF_UNIX;
        System.arraycopy(n, 0, a, 3, n.length);
        return a;
    }

    /** Sends one marker byte carrying {@code passed} as SCM_RIGHTS ancillary data. */
    void sendDescriptor(int connection, int passed) throws LastErrorException {
        Memory data = new Memory(1);
        data.setByte(0, (byte) 'F');
        Memory iov = new Memory(16);
        iov.setPointer(0, data);
        iov.setLong(8, 1);
        Memory control = new Memory(24); // CMSG_SPACE(sizeof(int))
        control.clear();
        control.setLong(0, 20); // CMSG_LEN(sizeof(int))
        control.setInt(8, SOL_SOCKET);
        control.setInt(12, SCM_RIGHTS);
        control.setInt(16, passed);
        Memory message = new Memory(56);
        message.clear();
        message.setPointer(16, iov);
        message.setLong(24, 1);
        message.setPointer(32, control);
        message.setLong(40, 24);
        long sent = c.sendmsg(connection, message, MSG_NOSIGNAL);
        if (sent != 1) {
            throw new LastErrorException("sendmsg sent " + sent + " bytes");
        }
    }

    void close(int fd) {
        try {
            c.close(fd);
        } catch (LastErrorException e) {
            // closing a descriptor we own only fails for EINTR/EIO, after which it is closed anyway
        }
    }
}

package dev.slipway.portsbind;

import java.net.Inet4Address;
import java.net.InetAddress;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The socket calls Java has no API for (binding a socket whose descriptor is then handed to another
 * process), through JNA. Linux only: the constants below are that ABI's.
 */
final class LinuxSockets {

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_V6ONLY = 26;
    static final int EACCES = 13;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;

    interface C extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        int setsockopt(int fd, int level, int name, int[] value, int length) throws LastErrorException;

        int bind(int fd, byte[] address, int length) throws LastErrorException;

        int listen(int fd, int backlog) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private final C c;

    LinuxSockets() {
        this.c = Native.load("c", C.class);
    }

    /**
     * A socket bound to {@code address:port} (listening when TCP). TCP sets SO_REUSEADDR so a port left
     * in TIME-WAIT by a previous runtime can be bound again (Linux still refuses a port with a listener).
     * UDP never does: there it would let the new socket share, and take datagrams from, a port another
     * program holds with SO_REUSEADDR set.
     */
    int bind(boolean tcp, InetAddress address, int port) throws LastErrorException {
        boolean v4 = address instanceof Inet4Address;
        int fd = c.socket(v4 ? AF_INET : AF_INET6, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
        try {
            if (tcp) {
                c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, new int[] {1}, 4);
            }
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

    void close(int fd) {
        try {
            c.close(fd);
        } catch (LastErrorException e) {
            // closing a descriptor we own only fails for EINTR/EIO, after which it is closed anyway
        }
    }
}

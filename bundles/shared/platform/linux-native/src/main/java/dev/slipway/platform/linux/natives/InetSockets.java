package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import com.sun.jna.Memory;
import com.sun.jna.Native;

import dev.slipway.platform.linux.natives.internal.Libc;

/** Internet sockets made by descriptor, for handing to another process: Java has no API for that. */
public final class InetSockets {
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOL_SOCKET = 1;
    static final int SO_REUSEADDR = 2;
    static final int IPPROTO_IPV6 = 41;
    static final int IPV6_V6ONLY = 26;
    public static final int LISTEN_BACKLOG = 1024;

    private InetSockets() {
    }

    /**
     * A close-on-exec socket bound to {@code address:port}, listening (backlog {@value #LISTEN_BACKLOG})
     * when TCP. TCP sets SO_REUSEADDR so a port left in TIME-WAIT can be bound again (Linux still refuses
     * a port with a listener). UDP never does: there it would let the new socket share, and take datagrams
     * from, a port another program holds with SO_REUSEADDR set. IPv6 sockets are IPv6-only.
     *
     * @throws ErrnoException with EADDRINUSE, EADDRNOTAVAIL, EACCES and the like
     */
    public static int bind(boolean tcp, InetAddress address, int port) throws IOException {
        Natives.require();
        boolean v4 = address instanceof Inet4Address;
        int fd = Libc.socket(v4 ? AF_INET : AF_INET6, (tcp ? SOCK_STREAM : SOCK_DGRAM) | Descriptors.SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new ErrnoException("cannot create a socket", Native.getLastError());
        }
        try {
            Memory one = new Memory(4);
            one.setInt(0, 1);
            if (tcp && Libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4) < 0) {
                throw new ErrnoException("cannot set SO_REUSEADDR", Native.getLastError());
            }
            if (!v4 && Libc.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4) < 0) {
                throw new ErrnoException("cannot set IPV6_V6ONLY", Native.getLastError());
            }
            byte[] sockaddr = v4 ? new byte[16] : new byte[28];
            short family = (short) (v4 ? AF_INET : AF_INET6);
            boolean little = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;
            sockaddr[little ? 0 : 1] = (byte) family; // sa_family_t in host order, the port in network order
            sockaddr[2] = (byte) (port >> 8);
            sockaddr[3] = (byte) port;
            System.arraycopy(address.getAddress(), 0, sockaddr, v4 ? 4 : 8, v4 ? 4 : 16);
            if (Libc.bind(fd, sockaddr, sockaddr.length) < 0) {
                throw new ErrnoException("cannot bind " + address.getHostAddress() + " port " + port, Native.getLastError());
            }
            if (tcp && Libc.listen(fd, LISTEN_BACKLOG) < 0) {
                throw new ErrnoException("cannot listen on " + address.getHostAddress() + " port " + port, Native.getLastError());
            }
            return fd;
        } catch (IOException | RuntimeException e) {
            FileDescriptors.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * This process's descriptor of its loopback socket on {@code port} (TCP: the listening one): its
     * inode from {@code /proc/net/tcp}/{@code udp} (or the IPv6 tables), then the {@code /proc/self/fd}
     * entry naming that inode. Finds the descriptor of a socket Java made without reflection.
     */
    public static int descriptorOfLoopbackSocket(boolean tcp, boolean v4, int port) throws IOException {
        return descriptorOf(inode(Path.of("/proc/net/" + (tcp ? "tcp" : "udp") + (v4 ? "" : "6")), port, tcp));
    }

    /** The inode of this namespace's loopback socket on {@code port} in the procfs socket table {@code table}. */
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
        throw new IOException("cannot find the loopback socket on port " + port + " in " + table);
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

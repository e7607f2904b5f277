package dev.slipway.platform.linux.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketsTest {
    @TempDir
    Path dir;

    @Test
    void connectsAndSendsToAUnixSocket() throws IOException {
        Path path = dir.resolve("s.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            int fd = UnixSockets.open();
            try {
                UnixSockets.connect(fd, path);
                UnixSockets.sendAll(fd, new byte[] {7, 8, 9});
                try (SocketChannel accepted = server.accept()) {
                    ByteBuffer in = ByteBuffer.allocate(3);
                    while (in.hasRemaining() && accepted.read(in) >= 0) {
                        // until all three arrived
                    }
                    assertEquals(9, in.get(2));
                }
            } finally {
                FileDescriptors.closeQuietly(fd);
            }
        }
    }

    @Test
    void connectingToNothingIsEnoent() throws IOException {
        int fd = UnixSockets.open();
        try {
            ErrnoException e = assertThrows(ErrnoException.class, () -> UnixSockets.connect(fd, dir.resolve("missing.sock")));
            assertEquals(Errno.ENOENT, e.errno());
        } finally {
            FileDescriptors.closeQuietly(fd);
        }
    }

    @Test
    void aPathTooLongIsRefusedBeforeAnyCall() {
        IOException e = assertThrows(IOException.class, () -> UnixSockets.address(dir.resolve("x".repeat(120))));
        assertTrue(e.getMessage().contains("at most 107 bytes"), e.getMessage());
    }

    @Test
    void bindsAListeningTcpSocketAndReportsAPortInUse() throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (ServerSocket taken = new ServerSocket(0, 1, loopback)) {
            ErrnoException e = assertThrows(ErrnoException.class, () -> InetSockets.bind(true, loopback, taken.getLocalPort()));
            assertEquals(Errno.EADDRINUSE, e.errno());
        }
        int fd = InetSockets.bind(true, loopback, 0);
        FileDescriptors.closeQuietly(fd);
        int v6 = InetSockets.bind(false, InetAddress.getByName("::1"), 0);
        FileDescriptors.closeQuietly(v6);
    }

    @Test
    void aSocketCopiedOntoAnotherDescriptorReplacesIt() throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        int fd = InetSockets.bind(true, loopback, 0);
        int[] pair = Descriptors.socketPair();
        try {
            FileDescriptors.dup2(fd, pair[0]);
            assertEquals(FileDescriptors.fstat(fd).inode(), FileDescriptors.fstat(pair[0]).inode());
        } finally {
            FileDescriptors.closeQuietly(fd);
            FileDescriptors.closeQuietly(pair[0]);
            FileDescriptors.closeQuietly(pair[1]);
        }
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(loopback, 0));
        }
    }

    @Test
    void findsTheDescriptorOfAChannelsLoopbackSocket() throws IOException {
        try (ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.INET)) {
            channel.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 1);
            int port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
            int fd = InetSockets.descriptorOfLoopbackSocket(true, true, port);
            assertTrue(java.nio.file.Files.readSymbolicLink(FileDescriptors.path(fd)).toString().startsWith("socket:["));
            assertThrows(IOException.class, () -> InetSockets.descriptorOfLoopbackSocket(false, true, port), "no UDP socket there");
        }
    }

    @Test
    void thePeerOfASocketPairIsThisProcess() throws IOException {
        int[] pair = Descriptors.socketPair();
        try {
            assertEquals(Accounts.effectiveUid(), UnixSockets.peerUid(pair[0]));
            assertEquals(Accounts.effectiveUid(), UnixSockets.peerUid(pair[1]));
        } finally {
            FileDescriptors.closeQuietly(pair[0]);
            FileDescriptors.closeQuietly(pair[1]);
        }
    }

    @Test
    void connectsThroughAnOpenedSocketFileAndReadsItsPeer() throws IOException {
        Path path = dir.resolve("through.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(path));
            int pathFd = FileDescriptors.open(path.toString(), FileDescriptors.O_PATH | FileDescriptors.O_NOFOLLOW
                    | FileDescriptors.O_CLOEXEC, 0);
            int fd = -1;
            try {
                FileStatus status = FileDescriptors.fstat(pathFd);
                assertTrue(status.socket(), status.toString());
                // the name now leads elsewhere: the descriptor still reaches the opened socket
                java.nio.file.Files.move(path, dir.resolve("moved.sock"));
                fd = UnixSockets.connectThrough(pathFd);
                assertEquals(Accounts.effectiveUid(), UnixSockets.peerUid(fd));
                UnixSockets.sendAll(fd, new byte[] {42});
                try (SocketChannel accepted = server.accept()) {
                    ByteBuffer in = ByteBuffer.allocate(1);
                    accepted.read(in);
                    assertEquals(42, in.get(0));
                }
            } finally {
                FileDescriptors.closeQuietly(fd);
                FileDescriptors.closeQuietly(pathFd);
            }
        }
    }

    @Test
    void anOpenedLinkIsALinkAndConnectingThroughAFileIsRefused() throws IOException {
        Path file = java.nio.file.Files.writeString(dir.resolve("plain"), "x");
        Path link = java.nio.file.Files.createSymbolicLink(dir.resolve("link"), file);
        int linkFd = FileDescriptors.open(link.toString(), FileDescriptors.O_PATH | FileDescriptors.O_NOFOLLOW
                | FileDescriptors.O_CLOEXEC, 0);
        int fileFd = FileDescriptors.open(file.toString(), FileDescriptors.O_PATH | FileDescriptors.O_CLOEXEC, 0);
        try {
            assertTrue(FileDescriptors.fstat(linkFd).symbolicLink());
            assertEquals(FileStatus.S_IFREG, FileDescriptors.fstat(fileFd).type());
            ErrnoException e = assertThrows(ErrnoException.class, () -> UnixSockets.connectThrough(fileFd));
            assertEquals(Errno.ECONNREFUSED, e.errno(), e.getMessage());
        } finally {
            FileDescriptors.closeQuietly(linkFd);
            FileDescriptors.closeQuietly(fileFd);
        }
    }
}

package dev.slipway.api.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SocketPathTest {

    @TempDir
    Path dir;

    @Test
    void aFreePathIsClaimedAsItIs() throws IOException {
        SocketPath.claim(dir.resolve("control.sock"));
        assertFalse(Files.exists(dir.resolve("control.sock")));
    }

    @Test
    void aSocketACrashedProcessLeftIsRemoved() throws IOException {
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel previous = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            previous.bind(UnixDomainSocketAddress.of(socket)); // closing leaves the file behind, as a crash does
        }
        assertTrue(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
        SocketPath.claim(socket);
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aSocketSomethingStillServesIsNeverTakenOver() throws IOException {
        Path socket = dir.resolve("control.sock");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(socket));
            IOException refused = assertThrows(IOException.class, () -> SocketPath.claim(socket));
            assertEquals(socket + ": another process is serving it; refusing to take it over", refused.getMessage());
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertNotNull(live.accept(), "the live server still has its socket");
            }
        }
    }

    @Test
    void aFileADirectoryOrALinkIsLeftAlone() throws IOException {
        Path file = Files.writeString(dir.resolve("file.sock"), "precious");
        Path directory = Files.createDirectory(dir.resolve("dir.sock"));
        Path link = Files.createSymbolicLink(dir.resolve("link.sock"), file);
        for (Path p : new Path[] {file, directory, link}) {
            IOException refused = assertThrows(IOException.class, () -> SocketPath.claim(p));
            assertTrue(refused.getMessage().endsWith("exists and is not a socket; refusing to replace it"), refused.getMessage());
            assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
        }
        assertEquals("precious", Files.readString(file));
    }
}

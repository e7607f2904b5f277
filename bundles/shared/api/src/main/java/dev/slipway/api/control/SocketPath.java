package dev.slipway.api.control;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The path a runtime's Unix socket is about to be bound at: free, or a socket a crashed process
 * left behind (removed). Anything else is refused and left as it is: a file, a directory or a link
 * is not Slipway's to delete, and a socket something still answers on belongs to a live process.
 */
public final class SocketPath {

    private SocketPath() {
    }

    /** @throws IOException saying what is at {@code socket} and that it was left alone */
    public static void claim(Path socket) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException free) {
            return;
        }
        if (!a.isOther()) {
            throw new IOException(socket + " exists and is not a socket; refusing to replace it");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            throw new IOException(socket + ": another process is serving it; refusing to take it over");
        } catch (ConnectException stale) {
            Files.delete(socket);
        } catch (SocketException notASocketOrGone) {
            if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(socket + " cannot be checked (" + notASocketOrGone.getMessage() + "); left as it is");
            }
        }
    }
}

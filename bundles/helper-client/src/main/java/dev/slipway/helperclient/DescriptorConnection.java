package dev.slipway.helperclient;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperProtocol;
import dev.slipway.platform.linux.natives.DescriptorReceiver;
import dev.slipway.platform.linux.natives.Errno;
import dev.slipway.platform.linux.natives.FileDescriptors;
import dev.slipway.platform.linux.natives.UnixSockets;

/**
 * One helper connection held by its native descriptor, for replies that carry a descriptor: Java's
 * Unix channels cannot receive SCM_RIGHTS. The helper sends the descriptor on this connection, the
 * one the request came in on. Linux only (the Linux natives bundle); failures are caught as
 * {@link IOException} so that this class loads where that bundle is absent.
 */
final class DescriptorConnection {

    /** The reply's JSON and the descriptor that came with it ({@code -1} when none did). */
    record Received(byte[] body, int descriptor) {
        void closeDescriptor() {
            if (descriptor >= 0) {
                FileDescriptors.closeQuietly(descriptor);
            }
        }
    }

    private final Path socket;
    private final Duration timeout;

    DescriptorConnection(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    /** Sends one framed request and reads one framed reply, collecting a descriptor sent ahead of it. */
    Received exchange(byte[] request) throws IOException, HelperException {
        int fd = UnixSockets.open();
        int descriptor = -1;
        try {
            UnixSockets.setTimeouts(fd, timeout);
            connect(fd);
            ByteBuffer frame = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES + request.length).putInt(request.length).put(request);
            UnixSockets.sendAll(fd, frame.array());
            ByteBuffer in = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES + HelperProtocol.MAX_MESSAGE_BYTES);
            DescriptorReceiver receiver = new DescriptorReceiver(in.capacity());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                int length = in.position() >= HelperProtocol.HEADER_BYTES ? in.getInt(0) : -1;
                if (length == 0 || length > HelperProtocol.MAX_MESSAGE_BYTES || length < -1) {
                    throw new IOException("the helper sent a message of " + Integer.toUnsignedString(length) + " bytes");
                }
                if (length > 0 && in.position() >= HelperProtocol.HEADER_BYTES + length) {
                    byte[] body = new byte[length];
                    in.get(HelperProtocol.HEADER_BYTES, body);
                    Received r = new Received(body, descriptor);
                    descriptor = -1;
                    return r;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("no reply within the time limit");
                }
                int before = in.position();
                int n;
                try {
                    n = receiver.receive(fd, in);
                } catch (IOException e) {
                    throw Errno.of(e) == Errno.EAGAIN ? new IOException("no reply within the time limit") : e;
                }
                if (n == 0) {
                    throw new IOException("the helper closed the connection");
                }
                int received = receiver.takeDescriptor();
                if (received >= 0) {
                    // the kernel never merges a message carrying descriptors with other data: this read is the marker byte alone
                    if (descriptor >= 0 || n != 1) {
                        FileDescriptors.closeQuietly(received);
                        throw new IOException("the helper sent an unexpected descriptor");
                    }
                    descriptor = received;
                    in.position(before);
                }
            }
        } finally {
            if (descriptor >= 0) {
                FileDescriptors.closeQuietly(descriptor);
            }
            FileDescriptors.closeQuietly(fd);
        }
    }

    private void connect(int fd) throws HelperException {
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length >= UnixSockets.MAX_PATH_BYTES) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper's socket path is too long: " + socket);
        }
        try {
            UnixSockets.connect(fd, socket);
        } catch (IOException e) {
            int errno = Errno.of(e);
            if (errno == Errno.EACCES) {
                throw new HelperException(HelperErrors.REFUSED, "no permission to use the helper's socket " + socket
                        + ": ask an administrator to add you to the helper's group (then log in again)");
            }
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper is not running on " + socket
                    + " (" + (errno == 0 ? e.getMessage() : Errno.describe(errno)) + "); an administrator installs it once with: sudo ./slipway helper install");
        }
    }
}

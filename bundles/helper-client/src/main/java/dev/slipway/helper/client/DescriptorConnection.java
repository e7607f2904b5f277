package dev.slipway.helper.client;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperProtocol;

/**
 * One helper connection opened through JNA, for replies that carry a descriptor: Java's Unix channels
 * cannot receive SCM_RIGHTS. The helper sends the descriptor on this connection, the one the request
 * came in on. Linux LP64 ABI (x86_64, aarch64).
 */
final class DescriptorConnection {

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_SNDTIMEO = 21;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int EACCES = 13;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;

    interface C extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        int connect(int fd, byte[] address, int length) throws LastErrorException;

        int setsockopt(int fd, int level, int name, long[] value, int length) throws LastErrorException;

        long send(int fd, byte[] data, long length, int flags) throws LastErrorException;

        long recvmsg(int fd, Pointer message, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    /** The reply's JSON and the descriptor that came with it ({@code -1} when none did). */
    record Received(byte[] body, int descriptor) {
        void closeDescriptor() {
            if (descriptor >= 0) {
                closeQuietly(LIBC, descriptor);
            }
        }
    }

    private static final C LIBC = Native.load("c", C.class);

    private final Path socket;
    private final Duration timeout;

    DescriptorConnection(Path socket, Duration timeout) {
        this.socket = socket;
        this.timeout = timeout;
    }

    /** Sends one framed request and reads one framed reply, collecting a descriptor sent ahead of it. */
    Received exchange(byte[] request) throws IOException, HelperException {
        int fd;
        try {
            fd = LIBC.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new IOException("cannot create a socket: errno " + e.getErrorCode());
        }
        int descriptor = -1;
        try {
            long[] timeval = {Math.max(1, timeout.toSeconds()), 0};
            LIBC.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval, 16);
            LIBC.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeval, 16);
            connect(fd);
            ByteBuffer frame = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES + request.length).putInt(request.length).put(request);
            byte[] out = frame.array();
            long sent = 0;
            while (sent < out.length) {
                byte[] rest = sent == 0 ? out : java.util.Arrays.copyOfRange(out, (int) sent, out.length);
                sent += LIBC.send(fd, rest, rest.length, MSG_NOSIGNAL);
            }
            ByteBuffer in = ByteBuffer.allocate(HelperProtocol.HEADER_BYTES + HelperProtocol.MAX_MESSAGE_BYTES);
            Memory data = new Memory(in.capacity());
            Memory iov = new Memory(16);
            Memory control = new Memory(24);
            Memory message = new Memory(56);
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
                iov.setPointer(0, data);
                iov.setLong(8, in.remaining());
                control.clear();
                message.clear();
                message.setPointer(16, iov);
                message.setLong(24, 1);
                message.setPointer(32, control);
                message.setLong(40, 24);
                long n;
                try {
                    n = LIBC.recvmsg(fd, message, MSG_CMSG_CLOEXEC);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == EINTR) {
                        continue;
                    }
                    throw new IOException(e.getErrorCode() == EAGAIN ? "no reply within the time limit" : "recvmsg failed: errno " + e.getErrorCode());
                }
                if (n == 0) {
                    throw new IOException("the helper closed the connection");
                }
                int received = receivedDescriptor(message, control);
                if (received >= 0) {
                    // the kernel never merges a message carrying descriptors with other data: this read is the marker byte alone
                    if (descriptor >= 0 || n != 1) {
                        closeQuietly(LIBC, received);
                        throw new IOException("the helper sent an unexpected descriptor");
                    }
                    descriptor = received;
                    continue;
                }
                in.put(data.getByteArray(0, (int) n));
            }
        } catch (LastErrorException e) {
            throw new IOException("errno " + e.getErrorCode());
        } finally {
            if (descriptor >= 0) {
                closeQuietly(LIBC, descriptor);
            }
            closeQuietly(LIBC, fd);
        }
    }

    private void connect(int fd) throws HelperException {
        byte[] path = socket.toString().getBytes(StandardCharsets.UTF_8);
        if (path.length >= 108) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper's socket path is too long: " + socket);
        }
        byte[] address = new byte[2 + path.length + 1];
        address[0] = AF_UNIX;
        System.arraycopy(path, 0, address, 2, path.length);
        try {
            LIBC.connect(fd, address, address.length);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EACCES) {
                throw new HelperException(HelperErrors.REFUSED, "no permission to use the helper's socket " + socket
                        + ": ask an administrator to add you to the helper's group (then log in again)");
            }
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper is not running on " + socket
                    + " (errno " + e.getErrorCode() + "); an administrator installs it once with: sudo ./slipway helper install");
        }
    }

    /** The descriptor of an SCM_RIGHTS control message, or -1. */
    private static int receivedDescriptor(Memory message, Memory control) {
        long controlLength = message.getLong(40);
        if (controlLength < 20) {
            return -1;
        }
        long cmsgLength = control.getLong(0);
        if (control.getInt(8) != SOL_SOCKET || control.getInt(12) != SCM_RIGHTS || cmsgLength < 20) {
            return -1;
        }
        return control.getInt(16);
    }

    private static void closeQuietly(C c, int fd) {
        try {
            c.close(fd);
        } catch (LastErrorException e) {
            // the descriptor is released by the kernel even when close reports an error
        }
    }
}

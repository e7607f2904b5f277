package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.nio.ByteBuffer;

import com.sun.jna.Memory;
import com.sun.jna.Native;

import dev.slipway.platform.linux.natives.internal.CmsgRights;
import dev.slipway.platform.linux.natives.internal.IoVec;
import dev.slipway.platform.linux.natives.internal.Libc;
import dev.slipway.platform.linux.natives.internal.MsgHdr;

/**
 * Reads a Unix stream socket with recvmsg, collecting a descriptor passed with SCM_RIGHTS
 * ({@link Descriptors#send}). Its native buffers are allocated once, for every read of one
 * connection. Received descriptors are close-on-exec. Not thread-safe.
 */
public final class DescriptorReceiver {
    static final int MSG_CMSG_CLOEXEC = 0x40000000;

    private final Memory data;
    private final IoVec iov;
    private final CmsgRights control = new CmsgRights();
    private final MsgHdr message;
    private int descriptor = -1;

    /** Reads at most {@code capacity} bytes at a time. */
    public DescriptorReceiver(int capacity) {
        this.data = new Memory(capacity);
        this.iov = new IoVec(data, capacity);
        this.message = new MsgHdr(iov, control);
    }

    /**
     * Reads what {@code socketFd} has, at most {@code into.remaining()} bytes, into {@code into};
     * returns the number of bytes (0 at the end of the stream). Retries when interrupted (EINTR);
     * a receive timeout is an {@link ErrnoException} with {@link Errno#EAGAIN}. A descriptor that
     * came with the bytes is kept for {@link #takeDescriptor()}; one that finds another not yet
     * taken is closed, and the read fails.
     */
    public int receive(int socketFd, ByteBuffer into) throws IOException {
        Natives.require();
        int room = (int) Math.min(into.remaining(), data.size());
        long n;
        while (true) {
            iov.iov_len.setValue(room);
            iov.write();
            control.cmsg_len.setValue(0);
            control.cmsg_level = 0;
            control.cmsg_type = 0;
            control.fd = -1;
            control.write();
            message.msg_controllen.setValue(control.size());
            message.msg_flags = 0;
            message.write();
            n = Libc.recvmsg(socketFd, message.getPointer(), MSG_CMSG_CLOEXEC);
            if (n >= 0) {
                break;
            }
            int errno = Native.getLastError();
            if (errno != Errno.EINTR) {
                throw new ErrnoException("cannot receive", errno);
            }
        }
        message.read();
        control.read();
        if (message.msg_controllen.longValue() >= control.dataLength() && control.cmsg_level == CmsgRights.SOL_SOCKET
                && control.cmsg_type == CmsgRights.SCM_RIGHTS && control.cmsg_len.longValue() >= control.dataLength()) {
            if (descriptor >= 0) {
                FileDescriptors.closeQuietly(control.fd);
                throw new IOException("a second descriptor arrived before the first was taken");
            }
            descriptor = control.fd;
        }
        if (n > 0) {
            if (into.hasArray()) {
                data.read(0, into.array(), into.arrayOffset() + into.position(), (int) n);
                into.position(into.position() + (int) n);
            } else {
                into.put(data.getByteBuffer(0, n));
            }
        }
        return (int) n;
    }

    /** The descriptor received since the last call, now the caller's to close; -1 if none came. */
    public int takeDescriptor() {
        int d = descriptor;
        descriptor = -1;
        return d;
    }

    /** Closes a descriptor received and not taken. */
    public void closeUntaken() {
        FileDescriptors.closeQuietly(takeDescriptor());
    }
}

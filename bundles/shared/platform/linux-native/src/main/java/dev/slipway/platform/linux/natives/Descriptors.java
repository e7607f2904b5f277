package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.lang.ref.Reference;

import com.sun.jna.Memory;
import com.sun.jna.Native;

import dev.slipway.platform.linux.natives.internal.CmsgRights;
import dev.slipway.platform.linux.natives.internal.IoVec;
import dev.slipway.platform.linux.natives.internal.Libc;
import dev.slipway.platform.linux.natives.internal.MsgHdr;

/**
 * Passing a descriptor to another process over a Unix socket (SCM_RIGHTS): one marker byte carries
 * it, and the kernel never merges such a byte with other data on the receiving side.
 * {@link DescriptorReceiver} is the receiving side.
 */
public final class Descriptors {
    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;

    private Descriptors() {
    }

    /**
     * Sends {@code marker} carrying a copy of {@code fdToPass} on the connected Unix socket
     * {@code socketFd}, without waiting (the caller knows the socket has room for one byte) and
     * without SIGPIPE. The caller still owns, and closes, {@code fdToPass}.
     */
    public static void send(int socketFd, int fdToPass, byte marker) throws IOException {
        Natives.require();
        Memory data = new Memory(1);
        data.setByte(0, marker);
        IoVec iov = new IoVec(data, 1);
        iov.write();
        CmsgRights control = new CmsgRights().rights(fdToPass);
        control.write();
        MsgHdr message = new MsgHdr(iov, control);
        message.write();
        long sent = Libc.sendmsg(socketFd, message.getPointer(), MSG_NOSIGNAL | MSG_DONTWAIT);
        int errno = Native.getLastError();
        // the native memory the message points into stays allocated until the call returned
        Reference.reachabilityFence(data);
        Reference.reachabilityFence(iov);
        Reference.reachabilityFence(control);
        if (sent < 0) {
            throw new ErrnoException("cannot pass a descriptor", errno);
        }
        if (sent != 1) {
            throw new IOException("cannot pass a descriptor: sendmsg sent " + sent + " bytes");
        }
    }

    /** A connected pair of Unix stream sockets (socketpair), both close-on-exec. */
    public static int[] socketPair() throws IOException {
        Natives.require();
        int[] fds = new int[2];
        if (Libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
            throw new ErrnoException("cannot create a socket pair", Native.getLastError());
        }
        return fds;
    }
}

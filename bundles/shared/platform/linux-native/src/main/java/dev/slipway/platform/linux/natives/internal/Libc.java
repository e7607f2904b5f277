package dev.slipway.platform.linux.natives.internal;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * libc, bound with JNA direct mapping: a call is a JNI call with its arguments as they are, so calls
 * with primitive arguments (the tap device's read, writev and poll) allocate nothing. The errno of
 * the last call on this thread is {@link Native#getLastError()}. Linux only.
 */
public final class Libc {
    private static final Throwable LOAD_ERROR;

    static {
        Throwable error = null;
        try {
            if (Platform.isLinux()) {
                Native.register(Libc.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            } else {
                error = new UnsupportedOperationException("Linux's libc is called on Linux only, this is " + System.getProperty("os.name"));
            }
        } catch (Throwable t) {
            error = t;
        }
        LOAD_ERROR = error;
    }

    private Libc() {
    }

    /** Null when libc is bound, otherwise why it is not. */
    public static Throwable loadError() {
        return LOAD_ERROR;
    }

    public static native int open(String path, int flags, int mode);

    public static native int openat(int dirFd, String path, int flags, int mode);

    public static native int linkat(int oldDirFd, String oldPath, int newDirFd, String newPath, int flags);

    public static native int close(int fd);

    public static native int dup2(int from, int to);

    public static native long read(int fd, long buffer, long count);

    public static native long write(int fd, long buffer, long count);

    public static native long writev(int fd, long iov, int count);

    public static native int poll(long fds, long count, int timeoutMillis);

    public static native int ioctl(int fd, NativeLong request, byte[] argument);

    public static native int ioctl(int fd, NativeLong request, NativeLong argument);

    public static native int socket(int domain, int type, int protocol);

    public static native int socketpair(int domain, int type, int protocol, int[] fds);

    public static native int setsockopt(int fd, int level, int name, Pointer value, int length);

    public static native int bind(int fd, byte[] address, int length);

    public static native int listen(int fd, int backlog);

    public static native int connect(int fd, byte[] address, int length);

    public static native long send(int fd, Pointer data, long length, int flags);

    public static native long sendmsg(int fd, Pointer message, int flags);

    public static native long recvmsg(int fd, Pointer message, int flags);

    public static native long recvmsg(int fd, long message, int flags);

    public static native long sendto(int fd, long data, long length, int flags, long address, int addressLength);

    public static native int epoll_create1(int flags);

    public static native int epoll_ctl(int epollFd, int op, int fd, long event);

    public static native int epoll_wait(int epollFd, long events, int maxEvents, int timeoutMillis);

    public static native Pointer strerror(int errno);

    public static native int fcntl(int fd, int command, int argument);

    public static native int getsockopt(int fd, int level, int name, int[] value, int[] length);

    public static native int geteuid();

    /** {@code result} is a pointer-sized cell receiving the entry's address, or null when there is none. */
    public static native int getpwnam_r(String name, Pointer passwd, Pointer buffer, long length, Pointer result);

    public static native int waitpid(int pid, int[] status, int options);

    public static native int sigemptyset(Pointer set);

    public static native int sigfillset(Pointer set);
}

package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import dev.slipway.platform.linux.natives.internal.Libc;

/**
 * Descriptors: opening files relative to a directory descriptor, naming them by descriptor, what
 * they are, and the allocation-free read, write, writev and poll of a frame loop.
 *
 * <p>The frame-loop calls ({@link #read}, {@link #write}, {@link #writev}, {@link #poll}) take
 * native addresses ({@link #address}) and report failure C's way: a negative result, the cause in
 * {@link #lastError()}. They allocate nothing.
 */
public final class FileDescriptors {
    private static final boolean AARCH64 = "aarch64".equals(Platform.ARCH);

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_EXCL = 0x80;
    public static final int O_NOCTTY = 0x100;
    public static final int O_APPEND = 0x400;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    /** A descriptor naming a file without opening it for reading or writing; with O_NOFOLLOW, a link itself. */
    public static final int O_PATH = 0x200000;
    public static final int O_DIRECTORY = AARCH64 ? 0x4000 : 0x10000;
    public static final int O_NOFOLLOW = AARCH64 ? 0x8000 : 0x20000;
    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_FOLLOW = 0x400;
    public static final short POLLIN = 1;
    public static final short POLLOUT = 4;

    private FileDescriptors() {
    }

    /** open(2); the descriptor. */
    public static int open(String path, int flags, int mode) throws IOException {
        Natives.require();
        int fd = Libc.open(path, flags, mode);
        if (fd < 0) {
            throw new ErrnoException("cannot open " + path, Native.getLastError());
        }
        return fd;
    }

    /** openat(2): {@code name} relative to the directory descriptor {@code dirFd}; the descriptor. */
    public static int openat(int dirFd, String name, int flags, int mode) throws IOException {
        Natives.require();
        int fd = Libc.openat(dirFd, name, flags, mode);
        if (fd < 0) {
            throw new ErrnoException("cannot open " + name, Native.getLastError());
        }
        return fd;
    }

    /**
     * Gives the file open on {@code fd} the name {@code name} in the directory {@code dirFd}
     * (linkat through {@link #path}, following that one link): never replaces an entry (EEXIST).
     */
    public static void linkat(int fd, int dirFd, String name) throws IOException {
        Natives.require();
        if (Libc.linkat(AT_FDCWD, path(fd).toString(), dirFd, name, AT_SYMLINK_FOLLOW) < 0) {
            throw new ErrnoException("cannot link " + name, Native.getLastError());
        }
    }

    /** dup2(2): {@code to} becomes a copy of {@code from} (closing what {@code to} was). */
    public static void dup2(int from, int to) throws IOException {
        Natives.require();
        if (Libc.dup2(from, to) < 0) {
            throw new ErrnoException("cannot copy descriptor " + from + " onto " + to, Native.getLastError());
        }
    }

    /** close(2). */
    public static void close(int fd) throws IOException {
        Natives.require();
        if (Libc.close(fd) < 0) {
            throw new ErrnoException("cannot close descriptor " + fd, Native.getLastError());
        }
    }

    /** close(2), ignoring its error: the kernel releases the descriptor even when close reports one. */
    public static void closeQuietly(int fd) {
        if (fd >= 0 && Natives.available()) {
            Libc.close(fd);
        }
    }

    /**
     * What the descriptor is now (fstat, through {@link #path}). Also of an {@link #O_PATH} descriptor,
     * which may name a symbolic link or a socket: the path reaches the opened file, never a link's target.
     */
    public static FileStatus fstat(int fd) throws IOException {
        Map<String, Object> a = Files.readAttributes(path(fd), "unix:dev,ino,size,nlink,uid,mode");
        return new FileStatus((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"), (Integer) a.get("nlink"),
                (Integer) a.get("uid"), (Integer) a.get("mode"));
    }

    /**
     * A path that reaches the very file open on {@code fd}, not a name it had: opening it reopens
     * that inode, and its attributes are the descriptor's.
     */
    public static Path path(int fd) {
        return Path.of("/proc/self/fd", Integer.toString(fd));
    }

    /** read(2) into native memory; negative on failure ({@link #lastError()}). */
    public static long read(int fd, long address, long count) {
        return Libc.read(fd, address, count);
    }

    /** write(2) from native memory; negative on failure ({@link #lastError()}). */
    public static long write(int fd, long address, long count) {
        return Libc.write(fd, address, count);
    }

    /** writev(2) of {@code count} struct iovec at {@code iovAddress}; negative on failure. */
    public static long writev(int fd, long iovAddress, int count) {
        return Libc.writev(fd, iovAddress, count);
    }

    /** poll(2) on {@code count} struct pollfd at {@code fdsAddress}; negative on failure. */
    public static int poll(long fdsAddress, long count, int timeoutMillis) {
        return Libc.poll(fdsAddress, count, timeoutMillis);
    }

    /**
     * A new eventfd(2), close-on-exec and non-blocking: a descriptor a loop blocked in {@link #poll}
     * watches beside its real one, so that another thread can wake it (by writing an 8-byte count)
     * instead of the loop waking on a timer to look for work.
     */
    public static int eventfd() throws IOException {
        int fd = Libc.eventfd(0, O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            throw new IOException("eventfd failed: " + Errno.describe(Native.getLastError()));
        }
        return fd;
    }

    /** The errno of this thread's last call. */
    public static int lastError() {
        return Native.getLastError();
    }

    /** The native address of a direct buffer's first byte (this allocates: remember it). */
    public static long address(ByteBuffer direct) {
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("not a direct buffer");
        }
        return Pointer.nativeValue(Native.getDirectBufferPointer(direct));
    }
}

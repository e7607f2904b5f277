package dev.slipway.platform.linux.natives;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

import dev.slipway.platform.linux.natives.internal.Libc;

/** Linux's errno values Slipway acts on (the same on x86_64 and aarch64), and their description. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int ESRCH = 3;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENXIO = 6;
    public static final int EBADF = 9;
    public static final int ECHILD = 10;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EACCES = 13;
    public static final int EBUSY = 16;
    public static final int EEXIST = 17;
    public static final int EXDEV = 18;
    public static final int ENODEV = 19;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int EMFILE = 24;
    public static final int ENOTTY = 25;
    public static final int EPIPE = 32;
    public static final int ERANGE = 34;
    public static final int ENAMETOOLONG = 36;
    public static final int ELOOP = 40;
    public static final int EBADFD = 77;
    public static final int ENOTSOCK = 88;
    public static final int EMSGSIZE = 90;
    public static final int EADDRINUSE = 98;
    public static final int EADDRNOTAVAIL = 99;
    public static final int ECONNRESET = 104;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;
    public static final int ENETUNREACH = 101;
    public static final int EHOSTUNREACH = 113;

    private Errno() {
    }

    /** The errno the last native call of this thread set. */
    public static int last() {
        return Native.getLastError();
    }

    /**
     * The errno of {@code failure} when it is an {@link ErrnoException}, else 0. Lets a bundle that
     * imports this package optionally catch {@link java.io.IOException} alone, so that its classes
     * load where this package is absent.
     */
    public static int of(Throwable failure) {
        return failure instanceof ErrnoException e ? e.errno() : 0;
    }

    /** The symbolic name ({@code EACCES}), or {@code errno N} for one not listed here. */
    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM";
            case ENOENT -> "ENOENT";
            case ESRCH -> "ESRCH";
            case EINTR -> "EINTR";
            case EIO -> "EIO";
            case ENXIO -> "ENXIO";
            case EBADF -> "EBADF";
            case ECHILD -> "ECHILD";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EACCES -> "EACCES";
            case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST";
            case EXDEV -> "EXDEV";
            case ENODEV -> "ENODEV";
            case ENOTDIR -> "ENOTDIR";
            case EISDIR -> "EISDIR";
            case EINVAL -> "EINVAL";
            case EMFILE -> "EMFILE";
            case ENOTTY -> "ENOTTY";
            case EPIPE -> "EPIPE";
            case ERANGE -> "ERANGE";
            case ENAMETOOLONG -> "ENAMETOOLONG";
            case ELOOP -> "ELOOP";
            case EBADFD -> "EBADFD";
            case ENOTSOCK -> "ENOTSOCK";
            case EADDRINUSE -> "EADDRINUSE";
            case EADDRNOTAVAIL -> "EADDRNOTAVAIL";
            case ECONNRESET -> "ECONNRESET";
            case ETIMEDOUT -> "ETIMEDOUT";
            case ECONNREFUSED -> "ECONNREFUSED";
            case EMSGSIZE -> "EMSGSIZE";
            case ENETUNREACH -> "ENETUNREACH";
            case EHOSTUNREACH -> "EHOSTUNREACH";
            default -> "errno " + errno;
        };
    }

    /** libc's text for {@code errno} and its name: {@code Permission denied (EACCES)}. */
    public static String describe(int errno) {
        String text = null;
        if (Natives.available()) {
            Pointer p = Libc.strerror(errno);
            text = p == null ? null : p.getString(0);
        }
        String name = name(errno);
        if (text == null || text.isEmpty()) {
            return name;
        }
        return text + " (" + (name.startsWith("errno") ? name : name + ", errno " + errno) + ")";
    }
}

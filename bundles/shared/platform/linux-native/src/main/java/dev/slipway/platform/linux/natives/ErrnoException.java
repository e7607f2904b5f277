package dev.slipway.platform.linux.natives;

import java.io.IOException;

/** A native call failed: what was being done and the errno it failed with. */
public class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public ErrnoException(String doing, int errno) {
        this(doing, errno, null);
    }

    /** {@code hint}, when not null, follows the error: what to do about it. */
    public ErrnoException(String doing, int errno, String hint) {
        super(doing + ": " + Errno.describe(errno) + (hint == null ? "" : "; " + hint));
        this.errno = errno;
    }

    /** The errno value ({@link Errno}). */
    public int errno() {
        return errno;
    }
}

package dev.slipway.platform.linux.natives;

import java.io.IOException;

import dev.slipway.platform.linux.natives.internal.Libc;

/** Whether libc could be bound: always on Linux with JNA's native part present. */
public final class Natives {

    private Natives() {
    }

    /** True when the calls of this package can be made. */
    public static boolean available() {
        return Libc.loadError() == null;
    }

    /** Why the calls cannot be made, or empty when they can. */
    public static String unavailableReason() {
        Throwable t = Libc.loadError();
        return t == null ? "" : t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** Throws a clear error when libc is not bound. */
    static void require() throws IOException {
        Throwable t = Libc.loadError();
        if (t != null) {
            throw new IOException("Linux native calls are unavailable: " + unavailableReason(), t);
        }
    }
}

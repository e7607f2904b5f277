package dev.slipway.platform.linux.natives.internal;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * posix_spawn and its file actions and attributes, bound apart from {@link Libc} because
 * {@code posix_spawn_file_actions_addclosefrom_np} came with glibc 2.34: on an older libc only
 * starting processes is unavailable, not every other call. These functions return their error
 * number rather than setting errno.
 */
public final class Spawn {
    private static final Throwable LOAD_ERROR;

    static {
        Throwable error = Libc.loadError();
        if (error == null) {
            try {
                Native.register(Spawn.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            } catch (Throwable t) {
                error = t;
            }
        }
        LOAD_ERROR = error;
    }

    private Spawn() {
    }

    /** Null when the functions are bound, otherwise why they are not. */
    public static Throwable loadError() {
        return LOAD_ERROR;
    }

    public static native int posix_spawn_file_actions_init(Pointer actions);

    public static native int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int target);

    public static native int posix_spawn_file_actions_addclose(Pointer actions, int fd);

    public static native int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    public static native int posix_spawn_file_actions_destroy(Pointer actions);

    public static native int posix_spawnattr_init(Pointer attributes);

    public static native int posix_spawnattr_setflags(Pointer attributes, short flags);

    public static native int posix_spawnattr_setsigmask(Pointer attributes, Pointer set);

    public static native int posix_spawnattr_setsigdefault(Pointer attributes, Pointer set);

    public static native int posix_spawnattr_destroy(Pointer attributes);

    public static native int posix_spawnp(int[] pid, String file, Pointer actions, Pointer attributes, Pointer argv,
            Pointer envp);
}

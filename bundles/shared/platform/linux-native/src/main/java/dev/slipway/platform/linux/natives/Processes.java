package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.StringArray;

import dev.slipway.platform.linux.natives.internal.Libc;
import dev.slipway.platform.linux.natives.internal.Spawn;

/**
 * Starting a program holding exactly chosen descriptors at fixed numbers (posix_spawnp; Java's
 * ProcessBuilder closes every descriptor but 0-2), and reaping it. Needs glibc 2.34 or later
 * ({@code posix_spawn_file_actions_addclosefrom_np}).
 */
public final class Processes {
    /** Above every descriptor number handed to a child, so the dup2 actions never overwrite a source. */
    public static final int MAX_CHILD_DESCRIPTOR = 99;
    static final int F_DUPFD_CLOEXEC = 1030;
    static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    static final short POSIX_SPAWN_SETSID = 0x80;
    /** Room for posix_spawn_file_actions_t (80 bytes on LP64), posix_spawnattr_t (336) and sigset_t (128). */
    private static final int ACTIONS_SIZE = 512;
    private static final int ATTRIBUTES_SIZE = 1024;
    private static final int SIGSET_SIZE = 128;

    private Processes() {
    }

    /**
     * Starts {@code command} (its first element looked up on {@code environment}'s PATH) with exactly
     * {@code environment}, in a new session, with the default signal dispositions and an empty signal
     * mask, holding exactly the descriptors of {@code descriptors} (the child's number, 0 to
     * {@value #MAX_CHILD_DESCRIPTOR}, to this process's descriptor) and no other: every other
     * descriptor is closed in the child, also one another thread opened without close-on-exec. The
     * caller still owns, and closes, the descriptors it handed.
     *
     * @return the child's pid; reap it with {@link #awaitExit(int)}
     * @throws ErrnoException when the program cannot be started (ENOENT when it is not found)
     * @throws IllegalArgumentException for an empty command or a child descriptor out of range
     */
    public static int spawn(List<String> command, Map<String, String> environment, Map<Integer, Integer> descriptors)
            throws IOException {
        requireSpawn();
        if (command.isEmpty()) {
            throw new IllegalArgumentException("no program to start");
        }
        Map<Integer, Integer> high = new TreeMap<>();
        Memory actions = new Memory(ACTIONS_SIZE);
        Memory attributes = new Memory(ATTRIBUTES_SIZE);
        Memory empty = new Memory(SIGSET_SIZE);
        Memory all = new Memory(SIGSET_SIZE);
        boolean actionsReady = false;
        boolean attributesReady = false;
        try {
            for (Map.Entry<Integer, Integer> e : descriptors.entrySet()) {
                if (e.getKey() < 0 || e.getKey() > MAX_CHILD_DESCRIPTOR) {
                    throw new IllegalArgumentException("child descriptor " + e.getKey() + " is out of range 0-"
                            + MAX_CHILD_DESCRIPTOR);
                }
                int copy = Libc.fcntl(e.getValue(), F_DUPFD_CLOEXEC, MAX_CHILD_DESCRIPTOR + 1);
                if (copy < 0) {
                    throw new ErrnoException("cannot copy descriptor " + e.getValue() + " for the child", Native.getLastError());
                }
                high.put(e.getKey(), copy);
            }
            check(Spawn.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            actionsReady = true;
            int next = 0;
            for (Map.Entry<Integer, Integer> e : high.entrySet()) {
                check(Spawn.posix_spawn_file_actions_adddup2(actions, e.getValue(), e.getKey()), "posix_spawn_file_actions_adddup2");
                next = Math.max(next, e.getKey() + 1);
            }
            // a number below the highest handed one that is not handed: made open, then closed (a close
            // action on a descriptor that is not open would fail the start)
            for (int gap = 0; gap < next; gap++) {
                if (!high.containsKey(gap)) {
                    int any = high.values().iterator().next();
                    check(Spawn.posix_spawn_file_actions_adddup2(actions, any, gap), "posix_spawn_file_actions_adddup2");
                    check(Spawn.posix_spawn_file_actions_addclose(actions, gap), "posix_spawn_file_actions_addclose");
                }
            }
            // everything else, including descriptors other threads open without O_CLOEXEC
            check(Spawn.posix_spawn_file_actions_addclosefrom_np(actions, next), "posix_spawn_file_actions_addclosefrom_np");
            check(Spawn.posix_spawnattr_init(attributes), "posix_spawnattr_init");
            attributesReady = true;
            Libc.sigemptyset(empty);
            Libc.sigfillset(all);
            check(Spawn.posix_spawnattr_setsigmask(attributes, empty), "posix_spawnattr_setsigmask");
            check(Spawn.posix_spawnattr_setsigdefault(attributes, all), "posix_spawnattr_setsigdefault");
            check(Spawn.posix_spawnattr_setflags(attributes, (short) (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                    | POSIX_SPAWN_SETSID)), "posix_spawnattr_setflags");
            StringArray argv = new StringArray(command.toArray(String[]::new));
            StringArray envp = new StringArray(environment.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                    .toArray(String[]::new));
            int[] pid = new int[1];
            int error = Spawn.posix_spawnp(pid, command.get(0), actions, attributes, argv, envp);
            Reference.reachabilityFence(argv);
            Reference.reachabilityFence(envp);
            if (error != 0) {
                throw new ErrnoException("cannot start " + command.get(0), error);
            }
            return pid[0];
        } finally {
            if (actionsReady) {
                Spawn.posix_spawn_file_actions_destroy(actions);
            }
            if (attributesReady) {
                Spawn.posix_spawnattr_destroy(attributes);
            }
            high.values().forEach(FileDescriptors::closeQuietly);
            Reference.reachabilityFence(empty);
            Reference.reachabilityFence(all);
        }
    }

    /**
     * Blocks until the child {@code pid} ends and reaps it (waitpid, retried when interrupted).
     *
     * @return its exit code, or 128 + the number of the signal that ended it
     * @throws ErrnoException ECHILD when {@code pid} is not a child of this process (or was reaped already)
     */
    public static int awaitExit(int pid) throws IOException {
        Natives.require();
        int[] status = new int[1];
        while (Libc.waitpid(pid, status, 0) < 0) {
            int errno = Native.getLastError();
            if (errno != Errno.EINTR) {
                throw new ErrnoException("cannot wait for process " + pid, errno);
            }
        }
        int signal = status[0] & 0x7f;
        return signal == 0 ? (status[0] >> 8) & 0xff : 128 + signal;
    }

    /** True when {@link #spawn} can be called: libc is bound and is glibc 2.34 or later. */
    public static boolean available() {
        return Spawn.loadError() == null;
    }

    private static void requireSpawn() throws IOException {
        Natives.require();
        Throwable t = Spawn.loadError();
        if (t != null) {
            throw new IOException("cannot start processes with chosen descriptors (needs glibc 2.34 or later): "
                    + (t.getMessage() == null ? t.toString() : t.getMessage()), t);
        }
    }

    private static void check(int error, String call) throws ErrnoException {
        if (error != 0) {
            throw new ErrnoException(call + " failed", error);
        }
    }
}

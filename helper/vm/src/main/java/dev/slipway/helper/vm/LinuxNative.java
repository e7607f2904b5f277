package dev.slipway.helper.vm;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import com.sun.jna.ptr.PointerByReference;

/**
 * Every native call of the VM manager, through JNA: opening files without following links as raw
 * descriptors, connecting a Unix socket and reading its peer's credentials, looking up an account,
 * and starting the emulator with chosen descriptors at fixed numbers (posix_spawnp; Java's
 * ProcessBuilder closes every descriptor but 0-2). Linux with glibc 2.34 or later, LP64 (x86_64,
 * aarch64): the constants and struct offsets below are those ABIs'.
 */
final class LinuxNative {

    static final int AT_FDCWD = -100;
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_APPEND = 0x400;
    static final int O_CLOEXEC = 0x80000;
    static final int O_PATH = 0x200000;
    private static final boolean ARM64 = System.getProperty("os.arch", "").equals("aarch64");
    static final int O_DIRECTORY = ARM64 ? 0x4000 : 0x10000;
    static final int O_NOFOLLOW = ARM64 ? 0x8000 : 0x20000;
    private static final int AT_EMPTY_PATH = 0x1000;
    private static final int STAT_MODE_OFFSET = ARM64 ? 16 : 24;
    private static final int STAT_UID_OFFSET = ARM64 ? 24 : 28;
    static final int S_IFMT = 0xf000;
    static final int S_IFSOCK = 0xc000;
    static final int S_IFLNK = 0xa000;
    static final int S_IFREG = 0x8000;
    static final int S_IFDIR = 0x4000;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_PEERCRED = 17;
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int EINTR = 4;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    /** Above every descriptor number handed to a child, so the dup2 actions never overwrite a source. */
    private static final int HIGH_DESCRIPTORS = 100;

    interface C extends Library {
        int openat(int dirfd, String path, int flags, int mode) throws LastErrorException;

        int fstatat(int dirfd, String path, Pointer buffer, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        int fcntl(int fd, int command, int argument) throws LastErrorException;

        int socket(int domain, int type, int protocol) throws LastErrorException;

        int connect(int fd, byte[] address, int length) throws LastErrorException;

        int getsockopt(int fd, int level, int name, int[] value, int[] length) throws LastErrorException;

        int geteuid();

        int getpwnam_r(String name, Pointer passwd, Pointer buffer, long length, PointerByReference result);

        int posix_spawn_file_actions_init(Pointer actions);

        int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int target);

        int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

        int posix_spawn_file_actions_destroy(Pointer actions);

        int posix_spawnattr_init(Pointer attributes);

        int posix_spawnattr_setflags(Pointer attributes, short flags);

        int posix_spawnattr_setsigmask(Pointer attributes, Pointer set);

        int posix_spawnattr_setsigdefault(Pointer attributes, Pointer set);

        int posix_spawnattr_destroy(Pointer attributes);

        int sigemptyset(Pointer set);

        int sigfillset(Pointer set);

        int posix_spawnp(int[] pid, String file, Pointer actions, Pointer attributes, StringArray argv, StringArray envp);

        int waitpid(int pid, int[] status, int options) throws LastErrorException;
    }

    /** A passwd entry's numbers. */
    record Account(String name, int uid, int gid) {}

    /** What fstat says about a descriptor: its type bits and owner. */
    record Stat(int mode, int uid) {
        int type() {
            return mode & S_IFMT;
        }
    }

    private final C c;

    LinuxNative() {
        this.c = Native.load("c", C.class);
    }

    int openat(int dirfd, String name, int flags) throws LastErrorException {
        return c.openat(dirfd, name, flags | O_CLOEXEC, 0);
    }

    /** fstat of an open descriptor (also of an {@code O_PATH} one, which may be a link itself). */
    Stat stat(int fd) throws LastErrorException {
        Memory buffer = new Memory(256);
        c.fstatat(fd, "", buffer, AT_EMPTY_PATH);
        return new Stat(buffer.getInt(STAT_MODE_OFFSET), buffer.getInt(STAT_UID_OFFSET));
    }

    void close(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            c.close(fd);
        } catch (LastErrorException e) {
            // EINTR/EIO: Linux has closed the descriptor anyway
        }
    }

    int effectiveUid() {
        return c.geteuid();
    }

    /** A stream socket connected to {@code path}; closes it again when the connect fails. */
    int connectUnix(String path) throws LastErrorException {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= 108) {
            throw new IllegalArgumentException("socket path too long: " + path);
        }
        byte[] address = new byte[2 + name.length + 1];
        address[0] = (byte) AF_UNIX;
        System.arraycopy(name, 0, address, 2, name.length);
        int fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        try {
            c.connect(fd, address, address.length);
            return fd;
        } catch (LastErrorException e) {
            close(fd);
            throw e;
        }
    }

    /** The uid of the process at the other end of a connected Unix socket, as the kernel recorded it. */
    int peerUid(int fd) throws LastErrorException {
        int[] credentials = new int[3]; // struct ucred: pid, uid, gid
        c.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, credentials, new int[] {12});
        return credentials[1];
    }

    Optional<Account> account(String name) {
        Memory passwd = new Memory(48); // struct passwd on LP64: 5 pointers, uid and gid
        Memory buffer = new Memory(16384);
        PointerByReference result = new PointerByReference();
        int error = c.getpwnam_r(name, passwd, buffer, buffer.size(), result);
        if (error != 0 || result.getValue() == null) {
            return Optional.empty();
        }
        return Optional.of(new Account(name, passwd.getInt(16), passwd.getInt(20)));
    }

    /**
     * Starts {@code argv} (looked up on {@code environment}'s PATH) in a new session with the default
     * signal dispositions and an empty signal mask, holding exactly the descriptors of
     * {@code descriptors} (child number to this process's descriptor) and no other.
     *
     * @return the child's pid; reap it with {@link #awaitExit(int)}
     */
    int spawn(List<String> argv, Map<String, String> environment, Map<Integer, Integer> descriptors)
            throws LastErrorException {
        Map<Integer, Integer> high = new TreeMap<>();
        Memory actions = new Memory(512);
        Memory attributes = new Memory(1024);
        Memory empty = new Memory(128);
        Memory all = new Memory(128);
        boolean actionsReady = false;
        boolean attributesReady = false;
        try {
            for (Map.Entry<Integer, Integer> e : descriptors.entrySet()) {
                if (e.getKey() >= HIGH_DESCRIPTORS) {
                    throw new IllegalArgumentException("child descriptor " + e.getKey() + " is too high");
                }
                high.put(e.getKey(), c.fcntl(e.getValue(), F_DUPFD_CLOEXEC, HIGH_DESCRIPTORS));
            }
            check(c.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            actionsReady = true;
            int next = 0;
            for (Map.Entry<Integer, Integer> e : high.entrySet()) {
                check(c.posix_spawn_file_actions_adddup2(actions, e.getValue(), e.getKey()), "adddup2");
                next = Math.max(next, e.getKey() + 1);
            }
            // everything else, including descriptors other threads open without O_CLOEXEC
            check(c.posix_spawn_file_actions_addclosefrom_np(actions, next), "addclosefrom_np");
            check(c.posix_spawnattr_init(attributes), "posix_spawnattr_init");
            attributesReady = true;
            c.sigemptyset(empty);
            c.sigfillset(all);
            check(c.posix_spawnattr_setsigmask(attributes, empty), "setsigmask");
            check(c.posix_spawnattr_setsigdefault(attributes, all), "setsigdefault");
            check(c.posix_spawnattr_setflags(attributes, (short) (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                    | POSIX_SPAWN_SETSID)), "setflags");
            String[] env = environment.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toArray(String[]::new);
            int[] pid = new int[1];
            check(c.posix_spawnp(pid, argv.get(0), actions, attributes, new StringArray(argv.toArray(String[]::new)),
                    new StringArray(env)), "posix_spawnp " + argv.get(0));
            return pid[0];
        } finally {
            if (actionsReady) {
                c.posix_spawn_file_actions_destroy(actions);
            }
            if (attributesReady) {
                c.posix_spawnattr_destroy(attributes);
            }
            high.values().forEach(this::close);
        }
    }

    /** Blocks until child {@code pid} ends and reaps it: its exit code, or 128 + the signal that ended it. */
    int awaitExit(int pid) throws LastErrorException {
        int[] status = new int[1];
        while (true) {
            try {
                c.waitpid(pid, status, 0);
                break;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != EINTR) {
                    throw e;
                }
            }
        }
        int signal = status[0] & 0x7f;
        return signal == 0 ? (status[0] >> 8) & 0xff : 128 + signal;
    }

    private static void check(int error, String call) {
        if (error != 0) {
            throw new LastErrorException("[" + error + "] " + call);
        }
    }
}

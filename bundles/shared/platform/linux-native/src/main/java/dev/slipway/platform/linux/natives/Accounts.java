package dev.slipway.platform.linux.natives;

import java.io.IOException;
import java.util.Optional;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import dev.slipway.platform.linux.natives.internal.Libc;

/** Accounts as libc knows them (getpwnam_r, through NSS), and this process's own. */
public final class Accounts {
    /** struct passwd on LP64: pw_name, pw_passwd, then pw_uid and pw_gid. */
    static final int PASSWD_SIZE = 48;
    static final int PW_UID_OFFSET = 16;
    static final int PW_GID_OFFSET = 20;
    private static final long MAX_BUFFER = 1 << 20;

    /** A passwd entry's name and numbers. */
    public record Account(String name, int uid, int gid) {}

    private Accounts() {
    }

    /**
     * The account {@code name}; empty when there is none.
     *
     * @throws ErrnoException when the account database cannot be read
     */
    public static Optional<Account> lookup(String name) throws IOException {
        Natives.require();
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            return Optional.empty();
        }
        Memory passwd = new Memory(PASSWD_SIZE);
        Memory result = new Memory(Native.POINTER_SIZE);
        for (long length = 16384; ; length *= 2) {
            Memory buffer = new Memory(length);
            result.setPointer(0, null);
            int error = Libc.getpwnam_r(name, passwd, buffer, length, result);
            if (error == Errno.ERANGE && length < MAX_BUFFER) {
                continue;
            }
            Pointer entry = result.getPointer(0);
            // not found: 0 with no entry; some NSS modules say so with one of these errors instead
            if (entry == null && (error == 0 || error == Errno.ENOENT || error == Errno.ESRCH || error == Errno.EBADF
                    || error == Errno.EPERM)) {
                return Optional.empty();
            }
            if (error != 0) {
                throw new ErrnoException("cannot look up account " + name, error);
            }
            String found = passwd.getPointer(0).getString(0);
            return Optional.of(new Account(found, passwd.getInt(PW_UID_OFFSET), passwd.getInt(PW_GID_OFFSET)));
        }
    }

    /** This process's effective uid (geteuid). */
    public static int effectiveUid() throws IOException {
        Natives.require();
        return Libc.geteuid();
    }
}

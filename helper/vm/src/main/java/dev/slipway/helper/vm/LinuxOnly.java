package dev.slipway.helper.vm;

import java.io.IOException;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.platform.linux.natives.Accounts;
import dev.slipway.platform.linux.natives.Natives;

/**
 * Whether the Linux natives bundle is there. It resolves on Linux only and this bundle imports it
 * optionally, so its classes may be missing: the classes of this bundle name its types only in
 * method bodies and catch {@link IOException} (its {@code ErrnoException} is one, told apart with
 * {@code Errno.of}), so that they load without it, and every path that calls it checks here first.
 */
final class LinuxOnly {

    private static final boolean AVAILABLE = check();

    private LinuxOnly() {
    }

    static boolean available() {
        return AVAILABLE;
    }

    /** A clear refusal where the natives bundle is absent: {@code what} happens on Linux only. */
    static void require(String what) throws HelperException {
        if (!AVAILABLE) {
            throw new HelperException(HelperErrors.UNAVAILABLE, what + " on Linux only");
        }
    }

    /** Whether this process runs as root; false where the natives bundle is absent (nothing starts there). */
    static boolean root() {
        try {
            return AVAILABLE && Accounts.effectiveUid() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean check() {
        try {
            return Natives.available();
        } catch (NoClassDefFoundError e) {
            return false;
        }
    }
}

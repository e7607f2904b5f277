package dev.slipway.api.helper;

import java.util.Objects;
import java.util.Optional;

import dev.slipway.api.helper.HelperCall.Caller;

/**
 * Who may change what a member made through the helper (the VM, the docker.sock link): the member
 * who made it, root, and the user named at install ({@code --user}, {@link HelperSettings#USER}).
 *
 * @param installedUser the {@code --user} user, if the helper was installed for one
 */
public record Ownership(Optional<String> installedUser) {

    public Ownership {
        Objects.requireNonNull(installedUser, "installedUser");
    }

    /** Root or the installed user: may act on anything any member made. */
    public boolean privileged(Caller caller) {
        return root(caller) || installedUser.map(caller.user()::equals).orElse(false);
    }

    public static boolean root(Caller caller) {
        return "root".equals(caller.user()) || "0".equals(caller.user());
    }

    /**
     * @param thing what is changed, as the error names it ("the VM")
     * @param owner who made it
     * @param action what the caller asked for ("stop it")
     * @throws HelperException {@link HelperErrors#REFUSED} unless the caller made it or is privileged
     */
    public void requireMayChange(Caller caller, String thing, String owner, String action) throws HelperException {
        if (privileged(caller) || owner.equals(caller.user())) {
            return;
        }
        String who = owner.equals("root") ? "root" : owner + ", root";
        throw new HelperException(HelperErrors.REFUSED, thing + " belongs to " + owner + "; only " + who
                + " or the installed user may " + action);
    }
}

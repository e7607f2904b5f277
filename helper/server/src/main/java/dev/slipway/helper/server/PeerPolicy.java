package dev.slipway.helper.server;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;

/**
 * Who may use the helper: root, and either the members of the configured group or, in
 * {@code --user} mode, exactly one user. Identity comes from the kernel's peer credentials; group
 * membership from the account directory, cached briefly so a burst of connections costs one lookup.
 */
final class PeerPolicy {

    static final Duration MEMBERSHIP_CACHE = Duration.ofSeconds(2);

    /** The outcome of a check. */
    record Decision(boolean allowed, String reason) {}

    private final String group;
    private final Optional<String> onlyUser;
    private final AccountDirectory accounts;
    private final Clock clock;

    private Set<String> cachedMembers = Set.of();
    private Instant cachedAt = Instant.EPOCH;

    PeerPolicy(String group, Optional<String> onlyUser, AccountDirectory accounts, Clock clock) {
        this.group = group;
        this.onlyUser = onlyUser;
        this.accounts = accounts;
        this.clock = clock;
    }

    String describe() {
        return onlyUser.map(u -> "only user " + u).orElse("members of group " + group);
    }

    synchronized Decision check(Caller peer) {
        if ("root".equals(peer.user()) || "0".equals(peer.user())) {
            return new Decision(true, "root");
        }
        if (onlyUser.isPresent()) {
            return onlyUser.get().equals(peer.user())
                    ? new Decision(true, "the --user mode user")
                    : new Decision(false, "this helper was installed for user " + onlyUser.get() + " only");
        }
        if (group.equals(peer.group())) {
            return new Decision(true, "primary group " + group);
        }
        try {
            Instant now = clock.instant();
            if (Duration.between(cachedAt, now).compareTo(MEMBERSHIP_CACHE) > 0 || now.isBefore(cachedAt)) {
                cachedMembers = accounts.groupMembers(group);
                cachedAt = now;
            }
        } catch (IOException e) {
            return new Decision(false, "cannot read the members of group " + group + ": " + e.getMessage());
        }
        return cachedMembers.contains(peer.user())
                ? new Decision(true, "member of group " + group)
                : new Decision(false, "user " + peer.user() + " is not in group " + group);
    }
}

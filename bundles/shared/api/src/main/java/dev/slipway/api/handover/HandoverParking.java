package dev.slipway.api.handover;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Keeps the state of a bundle while the deploy bundle restarts it for an update. Hosted by a bundle
 * that is not being updated (the deploy bundle). A bundle that keeps live state (open sockets,
 * connections, leases) asks {@link #restartExpected} when it is deactivated: when an update is
 * under way it {@link #deposit deposits} its state instead of closing it, otherwise it closes and
 * resets everything at once. When activated it {@link #claim claims} what its previous version left.
 */
@ProviderType
public interface HandoverParking {

    /** True while {@code symbolicName} is being stopped to be replaced, and its replacement will claim the state. */
    boolean restartExpected(String symbolicName);

    /**
     * Parks the outgoing version's state; the state's reset runs if nobody claims it in time. A
     * deposit for an owner whose state was claimed in this update comes from the incoming version
     * giving it back ({@link HandoverClaim}): it replaces the claimed state without resetting it (its
     * items moved into this deposit), and the update is rolled back.
     */
    void deposit(HandoverState state);

    /** The state parked for {@code owner} ({@code BSN} or {@code BSN/part}), or {@code null} when there is none. */
    HandoverClaim claim(String owner);
}

package dev.slipway.api.handover;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A parked state an incoming version holds. Exactly one of {@link #accept}, {@link #refuse} or
 * {@link #release} ends the claim.
 *
 * <p>Taking the state is provisional until the update is done. The deploy bundle declares it done
 * once the incoming version accepted every part of its state and every component of it activated;
 * until then {@link HandoverParking#restartExpected} stays true for the bundle. An incoming version
 * that fails after it claimed (its activation throws after {@link #accept}, or the deploy bundle
 * rolls the update back because another of its components failed, and stops it) gives back what it
 * holds <em>now</em>: it {@link HandoverParking#deposit deposits} its state again, exactly as it does
 * when an update stops it, so the outgoing version, started again, continues from where the incoming
 * one left off (the sequence numbers, the bytes in flight and the links as they are now, not as they
 * were parked). That deposit replaces the claimed state without resetting it, and tells the deploy
 * bundle the update failed. A version that accepted and goes without giving back loses the state:
 * the parking service then runs the parked state's reset.
 */
@ProviderType
public interface HandoverClaim {

    HandoverState state();

    /**
     * The incoming version took the state. {@code handedOver} and {@code reset} say, for
     * {@code slipway status}, what it now runs and what it had to reset (it resets that itself).
     * Until the update is done it must be able to give the state back (see above): a failure after
     * this call deposits the state as it is then.
     */
    void accept(List<String> handedOver, List<String> reset);

    /**
     * The incoming version cannot read this state (e.g. an unknown format version): the parking
     * service runs the state's reset, and the update goes on without state.
     */
    void refuse(String reason);

    /**
     * The incoming version failed after it claimed the state and did not keep any of it: the state
     * is parked again, untouched, and the deploy bundle rolls the update back so that the outgoing
     * version takes it back.
     */
    void release(String reason);
}

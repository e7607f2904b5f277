package dev.slipway.api.handover;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A parked state an incoming version holds. Exactly one of {@link #accept}, {@link #refuse} or
 * {@link #release} ends the claim.
 */
@ProviderType
public interface HandoverClaim {

    HandoverState state();

    /**
     * The incoming version took the state. {@code handedOver} and {@code reset} say, for
     * {@code slipway status}, what it now runs and what it had to reset (it resets that itself).
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

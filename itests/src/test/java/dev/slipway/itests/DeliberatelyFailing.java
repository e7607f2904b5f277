package dev.slipway.itests;

/**
 * A component that fails to activate, put into a networking bundle built at test time
 * ({@link NewerBundle#withFailingComponent}): an update to that version must roll back.
 */
public final class DeliberatelyFailing {

    public void activate() {
        throw new IllegalStateException("this version fails deliberately");
    }
}

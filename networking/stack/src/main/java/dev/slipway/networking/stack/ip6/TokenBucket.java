package dev.slipway.networking.stack.ip6;

/** A token bucket on a caller-supplied clock: {@code rate} tokens a second, at most {@code burst} saved up. */
final class TokenBucket {
    private final long nanosPerToken;
    private final long burstNanos;
    private long empty; // the time at which the bucket holds no tokens

    TokenBucket(int perSecond, int burst) {
        this.nanosPerToken = 1_000_000_000L / perSecond;
        this.burstNanos = nanosPerToken * burst;
        this.empty = Long.MIN_VALUE / 2;
    }

    boolean take(long now) {
        if (now - empty > burstNanos) {
            empty = now - burstNanos;
        }
        if (now - empty < nanosPerToken) {
            return false;
        }
        empty += nanosPerToken;
        return true;
    }
}

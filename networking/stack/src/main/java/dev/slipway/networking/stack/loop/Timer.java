package dev.slipway.networking.stack.loop;

/**
 * A deadline on an {@link EventLoop}: {@link #expired} runs on the loop, with its lock held, once
 * {@link System#nanoTime()} passes the deadline. Rescheduling and cancelling cost a heap step and
 * allocate nothing, so a timer per connection is cheap.
 */
public abstract class Timer {
    long deadline;
    /** The timer's place in the loop's heap, -1 when not scheduled. */
    int index = -1;

    /** Runs on the loop with its lock held; the timer is no longer scheduled. */
    protected abstract void expired(long now);

    public final boolean scheduled() {
        return index >= 0;
    }

    /** The deadline in {@link System#nanoTime()} terms; meaningful while {@link #scheduled()}. */
    public final long deadline() {
        return deadline;
    }
}

package dev.slipway.networking.stack.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selector thread with a task queue and deadline timers, and the lock that guards everything
 * the loop and its callers share. There is no periodic tick: the loop sleeps until a channel is
 * ready, a task arrives or the earliest timer is due, so an idle loop does not wake at all.
 *
 * <p>Lock discipline: every handler, task and timer runs with the lock held; other threads take it
 * (see {@link #lockQuickly}) before touching shared state, and call {@link #schedule}, {@link
 * #register} and {@link #interest} only with it held.
 */
public final class EventLoop implements AutoCloseable {
    /** What a registered channel's attachment does when the channel is ready; runs with the lock held. */
    @FunctionalInterface
    public interface Handler {
        void ready(SelectionKey key);
    }

    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
    private static final int LOCK_SPINS = 200;
    private static final int KEYS_PER_LOCK_HOLD = 32;

    private final ReentrantLock lock = new ReentrantLock();
    private final Selector selector;
    private final TimerHeap timers = new TimerHeap();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ArrayList<SelectionKey> readyKeys = new ArrayList<>();
    private final Runnable afterStep;
    private final Thread thread;
    private volatile boolean running = true;
    /** The deadline the loop sleeps towards (valid when {@link #sleepsTowardsDeadline}); read without the lock. */
    private volatile long sleepDeadline;
    private volatile boolean sleepsTowardsDeadline;
    private boolean deferWakeups;
    private boolean wakeupPending;
    private long wakeups;
    private long errorsLogged;

    /**
     * @param afterStep runs with the lock held at the end of every step that handled something
     *                  (a flush of work gathered during the step), or null
     */
    public EventLoop(String threadName, Runnable afterStep) {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector", e);
        }
        this.afterStep = afterStep;
        thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    public void lock() {
        lock.lock();
    }

    public void unlock() {
        lock.unlock();
    }

    public boolean running() {
        return running;
    }

    /**
     * Takes the lock, spinning briefly before parking: the critical sections of a transport's
     * reader and of the loop are short, and parking a thread and waking it again costs several
     * times more than they do (futex and scheduler round trips, dear on a virtual machine).
     */
    public void lockQuickly() {
        for (int i = 0; i < LOCK_SPINS; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    public boolean onLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code task} on the loop with the lock held. */
    public void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    /** Registers {@code channel} with {@code handler} as its attachment; lock held. */
    public SelectionKey register(SelectableChannel channel, int ops, Handler handler) throws ClosedChannelException {
        SelectionKey key = channel.register(selector, ops, handler);
        wakeup();
        return key;
    }

    /** Sets a key's interest set; wakes the loop when it grew, so that the selector applies it. Lock held. */
    public void interest(SelectionKey key, int ops) {
        int before = key.interestOps();
        if (before == ops) {
            return;
        }
        key.interestOps(ops);
        if ((ops & ~before) != 0) {
            wakeup();
        }
    }

    /** Arms (or moves) {@code timer} to {@code deadline} ({@link System#nanoTime()} terms); lock held. */
    public void schedule(Timer timer, long deadline) {
        timers.schedule(timer, deadline);
        if (timers.first() == timer && (!sleepsTowardsDeadline || deadline - sleepDeadline < 0)) {
            sleepDeadline = deadline;
            sleepsTowardsDeadline = true;
            wakeup();
        }
    }

    /** Disarms {@code timer}; lock held. */
    public void cancel(Timer timer) {
        timers.cancel(timer);
    }

    /**
     * While on, wake-ups the loop needs (a registration, a grown interest set, an earlier deadline)
     * wait for {@link #flushWakeups}: a transport delivering a batch of frames wakes the loop once
     * at its end rather than once per connection. Lock held.
     */
    public void deferWakeups(boolean on) {
        deferWakeups = on;
    }

    /** Wakes the loop if a deferred wake-up is pending; lock held. */
    public void flushWakeups() {
        if (wakeupPending) {
            wakeupPending = false;
            selector.wakeup();
        }
    }

    /** Makes the loop's selector see a registration, interest or deadline change soon; lock held. */
    public void wakeup() {
        if (onLoop()) {
            return; // the loop recomputes its sleep before it selects again
        }
        if (deferWakeups) {
            wakeupPending = true;
        } else {
            selector.wakeup();
        }
    }

    /** How many times the loop woke up and took the lock (for tests of the idle loop and for status). */
    public long wakeups() {
        return wakeups;
    }

    public int timersArmed() {
        return timers.size();
    }

    private void run() {
        Consumer<SelectionKey> collect = readyKeys::add;
        while (running) {
            try {
                if (!sleepsTowardsDeadline) {
                    selector.select(collect, 0);
                } else {
                    long wait = sleepDeadline - System.nanoTime();
                    if (wait <= 0) {
                        selector.selectNow(collect);
                    } else {
                        selector.select(collect, Math.max(1, (wait + 999_999) / 1_000_000));
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    break;
                }
                LOG.warn("selector failed", e);
            }
            long now = System.nanoTime();
            if (readyKeys.isEmpty() && tasks.isEmpty() && (!sleepsTowardsDeadline || now - sleepDeadline < 0)) {
                continue; // woken so that the selector took new registrations: nothing needs the lock
            }
            lockQuickly();
            try {
                wakeups++;
                step(now);
            } finally {
                readyKeys.clear();
                Timer first = timers.first();
                if (first != null) {
                    sleepDeadline = first.deadline;
                    sleepsTowardsDeadline = true;
                } else {
                    sleepsTowardsDeadline = false;
                }
                lock.unlock();
            }
        }
    }

    private void step(long now) {
        for (int i = 0; i < readyKeys.size(); i++) {
            SelectionKey key = readyKeys.get(i);
            try {
                if (key.attachment() instanceof Handler h) {
                    h.ready(key);
                }
            } catch (RuntimeException e) {
                logError("a channel's handler failed", e);
            }
            if ((i & (KEYS_PER_LOCK_HOLD - 1)) == KEYS_PER_LOCK_HOLD - 1 && lock.hasQueuedThreads()) {
                letOthersIn();
            }
        }
        for (Runnable t; (t = tasks.poll()) != null; ) {
            try {
                t.run();
            } catch (RuntimeException e) {
                logError("a task failed", e);
            }
        }
        for (Timer t; (t = timers.first()) != null && now - t.deadline >= 0; ) {
            timers.cancel(t);
            try {
                t.expired(now);
            } catch (RuntimeException e) {
                logError("a timer failed", e);
            }
        }
        if (afterStep != null) {
            try {
                afterStep.run();
            } catch (RuntimeException e) {
                logError("the end of a loop step failed", e);
            }
        }
    }

    /**
     * Lets a waiting thread (a transport's reader) take the lock between ready channels: a tap
     * drops what its queue cannot hold, so a reader kept out while thousands of sockets are
     * handled loses frames.
     */
    private void letOthersIn() {
        lock.unlock();
        Thread.yield();
        lockQuickly();
    }

    private void logError(String what, RuntimeException e) {
        if (errorsLogged++ < 20) {
            LOG.warn(what, e);
        }
    }

    /** Stops the loop and waits (up to two seconds) for its thread; the selector closes with it. */
    @Override
    public void close() {
        running = false;
        selector.wakeup();
        if (!onLoop()) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Closes the selector once the loop's owner has closed its channels. */
    public void closeSelector() {
        try {
            selector.close();
        } catch (IOException e) {
            LOG.debug("closing the selector", e);
        }
    }
}

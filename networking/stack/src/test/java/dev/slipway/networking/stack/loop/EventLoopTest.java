package dev.slipway.networking.stack.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The event loop: deadline order, cancelling, moving deadlines, tasks, and no wake-ups without a reason. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class EventLoopTest {
    final EventLoop loop = new EventLoop("event-loop-test", null);

    @AfterEach
    void stop() {
        loop.close();
        loop.closeSelector();
    }

    private static Timer recording(List<String> fired, String name, CountDownLatch done) {
        return new Timer() {
            @Override
            protected void expired(long now) {
                fired.add(name);
                done.countDown();
            }
        };
    }

    @Test
    void timersFireInDeadlineOrderAndCancelledOnesNever() throws Exception {
        loop.start();
        List<String> fired = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(3);
        Timer a = recording(fired, "a", done);
        Timer b = recording(fired, "b", done);
        Timer c = recording(fired, "c", done);
        Timer cancelled = recording(fired, "cancelled", done);
        long now = System.nanoTime();
        loop.lock();
        try {
            loop.schedule(c, now + 150_000_000L);
            loop.schedule(a, now + 50_000_000L);
            loop.schedule(cancelled, now + 60_000_000L);
            loop.schedule(b, now + 400_000_000L);
            loop.schedule(b, now + 100_000_000L); // moved earlier
            loop.cancel(cancelled);
            assertFalse(cancelled.scheduled());
        } finally {
            loop.unlock();
        }
        assertTrue(done.await(5, TimeUnit.SECONDS));
        Thread.sleep(50);
        assertEquals(List.of("a", "b", "c"), fired);
        assertEquals(0, loop.timersArmed());
    }

    @Test
    void aDeadlineSetFromAnotherThreadWakesTheSleepingLoop() throws Exception {
        loop.start();
        Thread.sleep(100); // the loop now sleeps with nothing to wait for
        CountDownLatch done = new CountDownLatch(1);
        Timer t = recording(new CopyOnWriteArrayList<>(), "t", done);
        loop.lock();
        try {
            loop.schedule(t, System.nanoTime() + 20_000_000L);
        } finally {
            loop.unlock();
        }
        assertTrue(done.await(5, TimeUnit.SECONDS), "the timer fired without anything else waking the loop");
    }

    @Test
    void tasksRunOnTheLoopWithTheLockHeld() throws Exception {
        loop.start();
        CountDownLatch done = new CountDownLatch(1);
        boolean[] onLoop = new boolean[1];
        loop.execute(() -> {
            onLoop[0] = loop.onLoop();
            done.countDown();
        });
        assertTrue(done.await(5, TimeUnit.SECONDS));
        assertTrue(onLoop[0]);
    }

    @Test
    void anIdleLoopDoesNotWakeUp() throws Exception {
        loop.start();
        CountDownLatch done = new CountDownLatch(1);
        loop.execute(done::countDown);
        assertTrue(done.await(5, TimeUnit.SECONDS));
        long before = loop.wakeups();
        Thread.sleep(500);
        assertEquals(before, loop.wakeups(), "no tick: nothing to do means no wake-up");
    }
}

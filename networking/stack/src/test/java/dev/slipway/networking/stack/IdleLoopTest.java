package dev.slipway.networking.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A guest attached and leased but silent: the stack's loop sleeps until a real deadline, it has no tick. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IdleLoopTest {
    NetStack stack;

    @AfterEach
    void stop() {
        stack.close();
    }

    @Test
    void anIdleGuestCostsTheLoopNoWakeUps() throws Exception {
        stack = new NetStack(NetConfig.defaults());
        MemoryTransport link = new MemoryTransport();
        stack.attach(link);
        MiniGuest guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
        guest.arpGateway();
        Thread.sleep(200);
        long before = wakeups();
        Thread.sleep(1000);
        assertEquals(before, wakeups(), "the loop woke with nothing due: " + stack.status());
    }

    private long wakeups() {
        stack.loop.lock();
        try {
            return stack.loop.wakeups();
        } finally {
            stack.loop.unlock();
        }
    }
}

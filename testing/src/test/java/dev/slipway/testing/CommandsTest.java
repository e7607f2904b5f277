package dev.slipway.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.Callable;

import org.junit.jupiter.api.Test;

class CommandsTest {

    @Test
    void aCommandsOutputAndExitComeBackSeparately() throws Exception {
        Commands.Out out = Commands.run(Duration.ofSeconds(10), "sh", "-c", "echo out; echo err >&2; exit 3");
        assertEquals(new Commands.Out(3, "out\n", "err\n"), out);
        assertTrue(!out.ok());
    }

    @Test
    void aCommandStillRunningAtItsDeadlineIsKilledAndAnswersMinusOne() throws Exception {
        long start = System.nanoTime();
        Commands.Out out = Commands.run(Duration.ofMillis(300), "sleep", "30");
        assertEquals(-1, out.exit());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(15).toNanos());
    }

    @Test
    void checkFailsWithTheCommandAndItsOutput() {
        AssertionError e = assertThrows(AssertionError.class, () -> Commands.check("sh", "-c", "echo nope >&2; exit 1"));
        assertTrue(e.getMessage().contains("sh -c") && e.getMessage().contains("nope"), e.getMessage());
    }

    @Test
    void aFakeForwardsToThePlainObjectAndRefusesWhatItDoesNotImplement() throws Exception {
        @SuppressWarnings("unchecked")
        Callable<String> fake = Fake.of(Callable.class, new Object() {
            @SuppressWarnings("unused")
            String call() {
                return "called";
            }
        });
        assertEquals("called", fake.call());
        Runnable none = Fake.of(Runnable.class, new Object());
        assertThrows(UnsupportedOperationException.class, none::run);
    }

    @Test
    void namesAreUniqueToTheRunAndDevicesFitFifteenCharacters() {
        assertEquals("slw-x-" + NetNs.RUN, NetNs.unique("slw-x"));
        assertTrue(NetNs.device("slwp").length() <= 15);
    }
}

package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.HelperSchema;
import dev.slipway.testing.GuestImage;

/**
 * A real guest whose runtime restarts while the VM runs: the guest fetches from the host by name
 * (DNS at the gateway, then TCP through the stack) every half second; the runtime's network
 * component stops (its link to QEMU closes, the guest's fetches fail) and a new one starts, finds the
 * helper and the running VM, gets the network card again ({@code vm.attach-network}, through the
 * helper's protocol, the descriptor by SCM_RIGHTS), and the guest, which kept its lease, fetches again.
 * One TCG boot.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RuntimeRestartRealGuestTest {

    static final String INIT = """
            i=0
            while [ $i -lt 400 ]; do
              i=$((i+1))
              echo SLIPWAY-FETCH $i $(timeout 4 wget -O - http://host.docker.internal:@HTTP_PORT@/ 2>/dev/null)
              sleep 0.5
            done
            echo SLIPWAY-DONE
            poweroff -f
            """;
    static final String PAGE = "hello from the host";

    @Test
    void aRestartedRuntimeGetsTheVmsNetworkCardBackAndTheGuestFetchesAgain() throws Exception {
        GuestImage.Kernel kernel = GuestImage.assumeAvailable();
        try (RealGuest guest = new RealGuest(kernel, INIT, image -> { }, 256)) {
            assertEquals("running", guest.boot().get("state"));
            assertTrue(awaitFetch(guest, 0, line -> line.endsWith(PAGE), Duration.ofSeconds(150)),
                    "the guest fetched through the first link; console:\n" + guest.consoleText() + "\nemulator:\n" + guest.emulatorLog());
            assertTrue(String.valueOf(guest.stack().status().get("transports")).contains("vm.attach-network"),
                    String.valueOf(guest.stack().status().get("transports")));

            guest.stopRuntime();
            int down = guest.consoleText().length();
            assertTrue(awaitFetch(guest, down, line -> !line.endsWith(PAGE), Duration.ofSeconds(30)),
                    "the guest's fetches fail while no runtime runs: " + guest.consoleText().substring(down));
            int before = guest.requests.get();

            guest.restartRuntime();
            int back = guest.consoleText().length();
            assertTrue(awaitFetch(guest, back, line -> line.endsWith(PAGE), Duration.ofSeconds(60)),
                    "the guest fetches again through the new runtime: " + guest.consoleText().substring(back)
                            + "\nemulator:\n" + guest.emulatorLog());
            assertTrue(guest.requests.get() > before, "the host's server was reached again");
            String console = guest.consoleText();
            assertEquals(1, GuestImage.lines(console, "SLIPWAY-LEASE").size(), "the guest kept its one lease: " + console);
            String audit = Files.readString(guest.root.resolve("audit.log"));
            long attaches = audit.lines().filter(l -> l.contains(HelperSchema.VM_ATTACH_NETWORK)).count();
            assertTrue(attaches >= 2, "each runtime asked the helper for the network card: " + audit);
        }
    }

    /** Waits for a fetch line after {@code offset} of the console that {@code wanted} accepts. */
    private static boolean awaitFetch(RealGuest guest, int offset, Predicate<String> wanted, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String text = guest.consoleText();
            List<String> fetches = GuestImage.lines(text.substring(Math.min(offset, text.length())), "SLIPWAY-FETCH");
            if (fetches.stream().map(String::strip).anyMatch(wanted)) {
                return true;
            }
            if (!"running".equals(guest.manager.status().get("state"))) {
                return false;
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        return false;
    }
}

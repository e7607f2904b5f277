package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import dev.slipway.testing.GuestImage;

/**
 * A real Linux guest under QEMU whose only network is Slipway: Debian's kernel, busybox, the
 * virtio-net driver, booted by the VM manager with its card on Slipway's QEMU stream socket.
 */
@Timeout(value = 200, unit = TimeUnit.SECONDS)
class RealGuestTest {

    static final String INIT = """
            echo SLIPWAY-RESOLVE-HOST $(nslookup host.docker.internal 2>&1 | tr '\\n' ' ')
            echo SLIPWAY-RESOLVE-GATEWAY $(nslookup gateway.docker.internal 2>&1 | tr '\\n' ' ')
            echo SLIPWAY-HTTP $(wget -O - http://host.docker.internal:@HTTP_PORT@/ 2>/dev/null)
            echo SLIPWAY-DONE
            poweroff -f
            """;
    // busybox-static's wget crashes with -q or -T in this guest; its progress goes to stderr instead

    @Test
    void aGuestBootedThroughTheManagerLeasesResolvesAndFetchesFromTheHostThroughSlipway() throws Exception {
        GuestImage.Kernel kernel = GuestImage.assumeAvailable();
        try (RealGuest guest = new RealGuest(kernel, INIT, image -> { }, 256)) {
            Map<String, Object> started = guest.boot();
            assertEquals("running", started.get("state"));
            boolean done = guest.awaitConsole("SLIPWAY-DONE", Duration.ofSeconds(150));
            String console = guest.consoleText();
            assertTrue(done, "the guest finished its script; console:\n" + console + "\nemulator:\n" + guest.emulatorLog());

            List<String> lease = GuestImage.lines(console, "SLIPWAY-LEASE");
            assertEquals(1, lease.size(), console);
            assertTrue(lease.get(0).contains("ip=192.168.65.") && lease.get(0).contains("router=192.168.65.1")
                    && lease.get(0).contains("dns=192.168.65.1"), lease.get(0));
            String host = GuestImage.lines(console, "SLIPWAY-RESOLVE-HOST").get(0);
            assertTrue(host.contains("192.168.65.254"), host);
            String gateway = GuestImage.lines(console, "SLIPWAY-RESOLVE-GATEWAY").get(0);
            assertTrue(gateway.contains("Address: 192.168.65.1") || gateway.contains("Address 1: 192.168.65.1"), gateway);
            assertEquals("SLIPWAY-HTTP hello from the host", GuestImage.lines(console, "SLIPWAY-HTTP").get(0).strip(),
                    console);

            Map<String, Object> during = guest.statusDuringRequest;
            assertTrue(during != null, "the host's HTTP server was reached");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> leases = (List<Map<String, Object>>) during.get("leases");
            assertEquals(QemuBackend.GUEST_MAC, leases.get(0).get("mac"));
            assertTrue(String.valueOf(leases.get(0).get("ip")).startsWith("192.168.65."));
            @SuppressWarnings("unchecked")
            Map<String, Object> tcp = (Map<String, Object>) during.get("tcp");
            assertTrue(((Number) tcp.get("connections")).intValue() >= 1, "the guest's connection is in the status: " + tcp);
            assertTrue(((Number) tcp.get("opened")).longValue() >= 1, tcp.toString());
            assertTrue(String.valueOf(during.get("transports")).contains("qemu"), String.valueOf(during.get("transports")));
            assertFalse(console.contains("Kernel panic") && !console.contains("SLIPWAY-DONE"), console);
        }
    }

    /** {@code socket:[INODE]} to the path /proc/net/unix names for it (a listener's, also for the connections it accepted). */
    static Map<String, String> unixSocketPaths() throws java.io.IOException {
        Map<String, String> paths = new java.util.HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 8 && f[6].matches("[0-9]+")) {
                paths.put("socket:[" + f[6] + "]", f[7]);
            }
        }
        return paths;
    }

    @Test
    void theEmulatorRunsUnprivilegedInItsSandboxHoldingOnlyTheDescriptorsItWasGiven() throws Exception {
        GuestImage.Kernel kernel = GuestImage.assumeAvailable();
        try (RealGuest guest = new RealGuest(kernel, "echo SLIPWAY-READY\nsleep 120\n", image -> { }, 128)) {
            Map<String, Object> started = guest.boot();
            long pid = ((Number) started.get("pid")).longValue();
            assertTrue(guest.awaitConsole("SLIPWAY-READY", Duration.ofSeconds(150)), "the guest came up on its descriptors;"
                    + " console:\n" + guest.consoleText() + "\nemulator:\n" + guest.emulatorLog());
            assertTrue(guest.consoleText().contains("SLIPWAY-LEASE"), "the network descriptor works: " + guest.consoleText());

            String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
            assertTrue(status.contains("Seccomp:\t2"), "QEMU's seccomp filter is on: " + status);
            assertTrue(status.contains("NoNewPrivs:\t1"), status);
            String uid = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
            assertFalse(uid.matches("Uid:.*\\b0\\b.*"), "QEMU never runs as root: " + uid);
            if (System.getProperty("user.name").equals("root")) {
                assertTrue(uid.startsWith("Uid:\t65534\t65534\t65534"), uid);
            }

            Map<Integer, String> fds = VmEmulatorIsolationTest.descriptors(pid);
            String net = fds.get(VmBackend.NET_FD);
            Path vmDir = guest.vmDir;
            Set<String> expectedFiles = Set.of("/dev/null", vmDir.resolve(VmManager.EMULATOR_LOG).toString(),
                    vmDir.resolve(VmManager.CONSOLE_LOG).toString(), vmDir.resolve(VmManager.DISK).toString());
            // the network card's listener, and the connection it accepted from the helper (procfs names it by the listener)
            Map<String, String> unixPaths = unixSocketPaths();
            String listener = unixPaths.get(net);
            assertTrue(listener != null && listener.endsWith("/" + VmManager.NETWORK_LISTENER), "descriptor 3 is the network card's listener: "
                    + listener);
            for (Map.Entry<Integer, String> fd : fds.entrySet()) {
                String target = fd.getValue();
                boolean expected = expectedFiles.contains(target) || target.equals(net)
                        || (target.startsWith("socket:[") && listener.equals(unixPaths.get(target)))
                        // QEMU's own event descriptors and internal pipes
                        || target.startsWith("anon_inode:") || target.startsWith("pipe:");
                assertTrue(expected, "descriptor " + fd.getKey() + " -> " + target + " was not given to QEMU; all: " + fds);
            }
            assertTrue(net.startsWith("socket:["), fds.toString());
            assertEquals(2, fds.values().stream().filter(t -> t.startsWith("socket:")).count(),
                    "two sockets, the network card's listener and its one connection: " + fds);
            System.out.println("QEMU " + pid + " descriptors: " + fds);
        }
    }
}

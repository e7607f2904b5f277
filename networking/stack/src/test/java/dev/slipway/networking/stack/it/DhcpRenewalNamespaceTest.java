package dev.slipway.networking.stack.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.component.GuestNamespace;
import dev.slipway.process.ProcessCommandRunner;
import dev.slipway.testing.Commands;
import dev.slipway.testing.NetNs;
import dev.slipway.testing.Prerequisites;

/** The guest namespace's DHCP client keeps running: it renews a short lease before it ends, and stops with the namespace. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DhcpRenewalNamespaceTest {
    static final String NS = NetNs.unique("slw-test-renew");
    static final String DEVICE = NetNs.device("slwr");
    static final int LEASE_SECONDS = 10;
    static final int CLIENT_LEASE_SECONDS = 30;
    NetStack stack;
    GuestNamespace ns;

    @AfterEach
    void stop() {
        if (ns != null) {
            ns.close();
        }
        if (stack != null) {
            stack.close();
        }
        NetNs.killAll(NS);
        NetNs.delete(NS);
    }

    @SuppressWarnings("unchecked")
    static long leaseExpiry(NetStack stack) {
        List<Map<String, Object>> leases = (List<Map<String, Object>>) stack.status().get("leases");
        assertEquals(1, leases.size(), leases.toString());
        return (Long) leases.get(0).get("expiresEpochMillis");
    }

    static String address(String ns, String device) throws Exception {
        return Commands.run(Duration.ofSeconds(10), "ip", "-n", ns, "-4", "-o", "addr", "show", "dev", device).stdout();
    }

    /**
     * busybox udhcpc takes any lease under 30 s for 30 s and renews after half of it (measured: the
     * unicast renewal of a 10 s lease comes 15 s after the grant), so the address lives 30 s.
     */
    @Test
    void aShortLeaseIsRenewedBeforeItEndsAndTheAddressLivesAsLongAsTheLease() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox");
        NetNs.delete(NS);
        NetConfig config = NetConfig.builder().leaseSeconds(LEASE_SECONDS).build();
        stack = new NetStack(config);
        ns = new GuestNamespace(new ProcessCommandRunner(), NS, DEVICE, config);
        ns.start(stack);
        long first = leaseExpiry(stack);
        int lifetime = lifetime(address(NS, DEVICE));
        long granted = System.nanoTime();
        assertTrue(lifetime <= CLIENT_LEASE_SECONDS && lifetime > CLIENT_LEASE_SECONDS - 10, "the address lives as long as the lease: " + lifetime);

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLIENT_LEASE_SECONDS / 2 + 20);
        long renewed = first;
        while (renewed <= first && System.nanoTime() < deadline) {
            Thread.sleep(250);
            renewed = leaseExpiry(stack);
        }
        assertTrue(renewed >= first + TimeUnit.SECONDS.toMillis(CLIENT_LEASE_SECONDS / 2 - 5),
                "the client renewed the lease half-way (" + first + " -> " + renewed + ")");
        long pastFirstLifetime = granted + TimeUnit.SECONDS.toNanos(CLIENT_LEASE_SECONDS + 2) - System.nanoTime();
        Thread.sleep(Math.max(1000, pastFirstLifetime / 1_000_000L));
        String after = address(NS, DEVICE);
        assertTrue(after.contains(" " + ns.address() + "/"), "the same address, past the first lease's end: " + after);
        assertTrue(lifetime(after) > 0, "the renewal extended the address's lifetime: " + after);
        Commands.Out ping = Commands.inNs(NS, Duration.ofSeconds(10), "busybox", "ping", "-c", "1", "-W", "3", "192.168.65.1");
        assertEquals(0, ping.exit(), ping.stdout());
    }

    static int lifetime(String address) {
        Matcher m = Pattern.compile("valid_lft (\\d+)sec").matcher(address);
        assertTrue(m.find(), "a limited lifetime: " + address);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void closingTheNamespaceStopsItsDhcpClient() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox");
        NetNs.delete(NS);
        NetConfig config = NetConfig.builder().leaseSeconds(LEASE_SECONDS).build();
        stack = new NetStack(config);
        ns = new GuestNamespace(new ProcessCommandRunner(), NS, DEVICE, config);
        ns.start(stack);
        assertFalse(clients().isEmpty(), "a DHCP client runs in the namespace");
        ns.close();
        ns = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!clients().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(List.of(), clients(), "no DHCP client outlives its namespace");
    }

    /** The udhcpc processes serving this test's device. */
    static List<ProcessHandle> clients() {
        return ProcessHandle.allProcesses().filter(p -> p.info().arguments().map(a -> List.of(a).contains("udhcpc")
                && List.of(a).contains(DEVICE)).orElse(false)).toList();
    }
}

package dev.slipway.networking.stack.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which namespace a start may reclaim: only one whose owner file names a runtime that is gone. */
class GuestNamespaceOwnerTest {

    @Test
    void aLiveOwnerKeepsItsNamespace() {
        assertTrue(GuestNamespace.ownerAlive(GuestNamespace.ownerStamp(ProcessHandle.current())));
    }

    @Test
    void aReusedPidIsNotTheOwner() {
        long pid = ProcessHandle.current().pid();
        assertFalse(GuestNamespace.ownerAlive(pid + " 2001-01-01T00:00:00Z"));
    }

    @Test
    void aGoneProcessIsNotTheOwner() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String stamp = gone.pid() + " " + gone.info().startInstant().map(Object::toString).orElse("?");
        assertFalse(GuestNamespace.ownerAlive(stamp));
    }

    @Test
    void garbageIsNotAnOwner() {
        for (String recorded : new String[] {"", "x", "-1", "99999999999999999999 y", "\u0000"}) {
            assertFalse(GuestNamespace.ownerAlive(recorded), recorded);
        }
    }

    @Test
    void theOwnerRecordLivesOutsideTheDirectoryIpNetnsExecMountsOverEtc() {
        GuestNamespace namespace = new GuestNamespace((command, timeout) -> {
            throw new AssertionError("no command: " + command);
        }, "slw-owner", "slw0", dev.slipway.networking.stack.NetConfig.defaults());
        assertEquals(java.nio.file.Path.of("/run/slipway-netns/slw-owner.owner"), namespace.ownerFile());
        assertFalse(namespace.ownerFile().startsWith("/etc/netns"));
    }
}

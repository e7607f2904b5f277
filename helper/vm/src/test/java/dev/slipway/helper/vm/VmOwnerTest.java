package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * Member against member: the VM belongs to the member who created it; another member may read its
 * status but not start, stop, destroy or move it. Root and the user named at install may.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class VmOwnerTest {

    static final Caller ALICE = new Caller("alice", "alice");
    static final Caller BOB = new Caller("bob", "bob");
    static final Caller ROOT = new Caller("root", "root");
    static final Caller CAROL = new Caller("carol", "carol");

    Path root;
    Path vmDir;
    VmManager manager;

    @BeforeEach
    void setUp() throws Exception {
        root = TestRoot.create("owner");
        vmDir = root.resolve("vm");
        manager = manager(Optional.empty());
        manager.create(ALICE);
    }

    @AfterEach
    void tearDown() throws Exception {
        manager.close();
        TestRoot.delete(root);
    }

    VmManager manager(Optional<String> installedUser) {
        var settings = new VmManager.Settings(vmDir, Optional.empty(), Optional.empty(), "console=ttyS0", 64, 1,
                1L << 20, "tcg", ".slipway/run/vm.sock", "root", installedUser, List.of(), Optional.of("nobody"));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(root); }
        };
        return new VmManager(settings, new QemuBackend("qemu-system-x86_64", Path.of("/nonexistent/kvm"), true), accounts, p -> { });
    }

    @Test
    void anotherMemberIsRefusedEveryChangeWithWhoseVmItIs() throws Exception {
        Path elsewhere = TestRoot.dir(root, "bobs");
        refused(() -> manager.start(BOB), "alice", "start it");
        refused(() -> manager.stop(BOB), "alice", "stop it");
        refused(() -> manager.destroy(BOB), "alice", "destroy it");
        refused(() -> manager.moveDisk(elsewhere, BOB), "alice", "move its disk");
        assertTrue(Files.exists(vmDir.resolve(VmManager.DISK)), "the disk stays");
        assertEquals("stopped", manager.status().get("state"), "status stays readable for every member");
        assertEquals("alice", manager.status().get("owner"));
        assertEquals(false, manager.create(BOB).get("created"), "a second create changes nothing");
        assertEquals("alice", manager.status().get("owner"));
    }

    @Test
    void theOwnerAndRootMayChangeIt() throws Exception {
        assertEquals(false, manager.stop(ALICE).get("stopped"));
        assertEquals(false, manager.stop(ROOT).get("stopped"));
        assertEquals(HelperErrors.UNAVAILABLE, assertThrows(HelperException.class, () -> manager.start(ALICE)).code(),
                "past the owner check: this test configures no kernel");
        assertEquals(true, manager.destroy(ROOT).get("destroyed"));
        assertEquals("absent", manager.status().get("state"));
        manager.create(BOB);
        assertEquals("bob", manager.status().get("owner"), "the next VM belongs to its new creator");
        refused(() -> manager.destroy(ALICE), "bob", "destroy it");
    }

    @Test
    void theUserNamedAtInstallMayChangeAnyMembersVm() throws Exception {
        manager.close();
        manager = manager(Optional.of("carol"));
        assertEquals(false, manager.stop(CAROL).get("stopped"));
        refused(() -> manager.stop(BOB), "alice", "stop it");
        assertEquals(true, manager.destroy(CAROL).get("destroyed"));
    }

    private static void refused(Executable operation, String owner, String action) {
        HelperException e = assertThrows(HelperException.class, operation);
        assertEquals(HelperErrors.REFUSED, e.code());
        assertEquals("the VM belongs to " + owner + "; only " + owner + ", root or the installed user may " + action,
                e.getMessage());
    }
}

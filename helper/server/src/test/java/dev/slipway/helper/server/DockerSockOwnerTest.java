package dev.slipway.helper.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.links.CliLinks;
import dev.slipway.links.DockerSockLink;

/**
 * Member against member on the docker.sock link: it belongs to the member whose home it points
 * into; another member may neither repoint nor remove it; root and the installed user may. The two
 * members are the system accounts daemon and nobody, given a home each: needs root.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class DockerSockOwnerTest {

    static final Caller FIRST = new Caller("daemon", "daemon");
    static final Caller SECOND = new Caller("nobody", "nogroup");
    static final Caller ROOT = new Caller("root", "root");

    @TempDir
    Path root;
    Path run;

    @BeforeEach
    void layout() throws IOException {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root (CI runs as root): gives home directories to the accounts daemon and nobody");
        run = Files.createDirectories(root.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Caller member : List.of(FIRST, SECOND)) {
            Path home = Files.createDirectories(root.resolve("home").resolve(member.user()));
            Files.setOwner(home, home.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(member.user()));
        }
    }

    LinkOperations operations(Optional<String> installedUser) {
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(root.resolve("home").resolve(user)); }
        };
        return new LinkOperations(new CliLinks(root.resolve("bin"), root.resolve("install"), List.of("docker"), "root"),
                new DockerSockLink(run.resolve("docker.sock"), Path.of(".slipway/run/docker.sock")), installedUser, accounts,
                definitions(), plan -> { });
    }

    Map<String, Object> call(LinkOperations ops, String op, Caller caller) throws HelperException {
        return ops.handle(new HelperCall(1, op, Map.of(), caller));
    }

    @Test
    void anotherMemberCanNeitherRepointNorRemoveTheLink() throws Exception {
        LinkOperations ops = operations(Optional.empty());
        assertEquals("created", call(ops, HelperSchema.DOCKERSOCK_LINK, FIRST).get("link"));
        refused(() -> call(ops, HelperSchema.DOCKERSOCK_LINK, SECOND), "replace it");
        refused(() -> call(ops, HelperSchema.DOCKERSOCK_UNLINK, SECOND), "remove it");
        assertEquals(target(FIRST), Files.readSymbolicLink(run.resolve("docker.sock")), "the link still serves its member");
        assertEquals("unchanged", call(ops, HelperSchema.DOCKERSOCK_LINK, FIRST).get("link"));
        assertEquals("removed", call(ops, HelperSchema.DOCKERSOCK_UNLINK, FIRST).get("link"));
        assertEquals("created", call(ops, HelperSchema.DOCKERSOCK_LINK, SECOND).get("link"), "an absent link is anyone's to make");
    }

    @Test
    void rootAndTheInstalledUserMayRepointOrRemoveAnyMembersLink() throws Exception {
        LinkOperations ops = operations(Optional.empty());
        call(ops, HelperSchema.DOCKERSOCK_LINK, FIRST);
        assertEquals("removed", call(ops, HelperSchema.DOCKERSOCK_UNLINK, ROOT).get("link"));
        call(ops, HelperSchema.DOCKERSOCK_LINK, FIRST);
        LinkOperations installedForSecond = operations(Optional.of(SECOND.user()));
        assertEquals("removed", call(installedForSecond, HelperSchema.DOCKERSOCK_UNLINK, SECOND).get("link"));
        assertEquals(false, Files.exists(run.resolve("docker.sock"), LinkOption.NOFOLLOW_LINKS));
    }

    private Path target(Caller member) {
        return root.resolve("home").resolve(member.user()).resolve(".slipway/run/docker.sock");
    }

    private static void refused(org.junit.jupiter.api.function.Executable operation, String action) {
        HelperException e = assertThrows(HelperException.class, operation);
        assertEquals(HelperErrors.REFUSED, e.code());
        assertEquals("the docker.sock link belongs to daemon; only daemon, root or the installed user may " + action,
                e.getMessage());
    }

    private static HelperServiceDefinitions definitions() {
        return new HelperServiceDefinitions() {
            @Override public Path configFile() { return Path.of("/etc/slipway/helper.properties"); }
            @Override public Path auditLog() { return Path.of("/var/log/slipway/helper-audit.log"); }
            @Override public SystemPlan install(InstallOptions options) { throw new AssertionError(); }
            @Override public SystemPlan reconfigure(InstallOptions options) { throw new AssertionError(); }
            @Override public SystemPlan uninstall(InstallOptions options) { throw new AssertionError(); }
            @Override public List<String> statusCommand() { return List.of(); }
            @Override public Optional<SystemPlan> dockerSockBootLink(Path link, Path target) { return Optional.empty(); }
            @Override public SystemPlan removeDockerSockBootLink() { return SystemPlan.of(List.of()); }
            @Override public dev.slipway.api.helper.HelperServiceStatus serviceStatus() { throw new AssertionError(); }
            @Override public void requireTrusted(Path path) { }
            @Override public void requireTrustedChain(Path directory) { }
            @Override public boolean elevated() { return true; }
        };
    }
}

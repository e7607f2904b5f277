package dev.slipway.links;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class DockerSockLinkTest {

    @TempDir
    Path root;
    Path run;
    DockerSockLink link;
    Path alice;

    @BeforeEach
    void layout() throws IOException {
        run = Files.createDirectories(root.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createSymbolicLink(root.resolve("var-run"), run); // like /var/run -> /run
        link = new DockerSockLink(root.resolve("var-run/docker.sock"), Path.of(".slipway/run/docker.sock"));
        alice = root.resolve("home/alice");
    }

    @Test
    void linkPointsTheSystemSocketAtTheUsersSlipwaySocket() throws IOException {
        assertEquals("created", link.link(alice));
        assertEquals(alice.resolve(".slipway/run/docker.sock"), Files.readSymbolicLink(run.resolve("docker.sock")));
        assertEquals("unchanged", link.link(alice));
        assertEquals("replaced", link.link(root.resolve("home/bob")));
        assertEquals("removed", link.unlink());
        assertEquals("absent", link.unlink());
    }

    @Test
    void theLinkBelongsToTheOwnerOfTheHomeItPointsInto() throws IOException {
        assertEquals(java.util.Optional.empty(), link.owner());
        Files.createDirectories(alice);
        link.link(alice);
        assertEquals(java.util.Optional.of(Files.getOwner(alice).getName()), link.owner());
        link.link(root.resolve("home/gone"));
        assertEquals(java.util.Optional.empty(), link.owner(), "a link into a home that is gone is nobody's");
    }

    @Test
    void aRealDockerSocketIsLeftAloneWithAClearError() throws IOException {
        try (ServerSocketChannel docker = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            docker.bind(UnixDomainSocketAddress.of(run.resolve("docker.sock")));
            CliLinks.ConflictException e = assertThrows(CliLinks.ConflictException.class, () -> link.link(alice));
            assertTrue(e.getMessage().contains("not Slipway's"), e.getMessage());
            assertThrows(CliLinks.ConflictException.class, link::unlink);
            assertTrue(Files.exists(run.resolve("docker.sock"), LinkOption.NOFOLLOW_LINKS));
            assertTrue(!Files.isSymbolicLink(run.resolve("docker.sock")));
        }
    }

    @Test
    void anotherProductsLinkIsLeftAlone() throws IOException {
        Path desktop = alice.resolve(".docker/run/docker.sock");
        Files.createSymbolicLink(run.resolve("docker.sock"), desktop);
        assertThrows(CliLinks.ConflictException.class, () -> link.link(alice));
        assertThrows(CliLinks.ConflictException.class, link::unlink);
        assertEquals(desktop, Files.readSymbolicLink(run.resolve("docker.sock")));
    }
}

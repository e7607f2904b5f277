package dev.slipway.api.helper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The install dir check on real directories. A chain that only root (or the user running the test)
 * can change is made under the module's target/ (the temp dir is under /tmp, which anyone may write);
 * the test skips, saying so, when even the checkout is open to group or other writes.
 */
class PosixTrustedLocationTest {

    private final PosixTrustedLocation trusted = new PosixTrustedLocation(System.getProperty("user.name"), Set.of());
    private Path chain;

    @BeforeEach
    void closedChain() throws IOException {
        Path target = Path.of("target").toAbsolutePath();
        Files.createDirectories(target);
        chain = Files.createTempDirectory(target, "trust-");
        Files.setPosixFilePermissions(chain, PosixFilePermissions.fromString("rwxr-xr-x"));
        try {
            trusted.require(chain);
        } catch (IOException e) {
            Assumptions.abort("the checkout itself is open to others, so no trusted chain can be made under it: " + e.getMessage());
        }
    }

    @AfterEach
    void removeChain() throws IOException {
        if (chain != null) {
            try (Stream<Path> all = Files.walk(chain)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private Path dir(String relative, String mode) throws IOException {
        Path dir = Files.createDirectories(chain.resolve(relative));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        return dir;
    }

    @Test
    void aClosedChainWithClosedContentsIsAccepted() throws Exception {
        Path install = dir("opt/slipway", "rwxr-xr-x");
        Files.setPosixFilePermissions(chain.resolve("opt"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Files.writeString(Files.createDirectories(install.resolve("lib")).resolve("a.jar"), "x");
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(install.resolve("lib"), PosixFilePermissions.fromString("rwxr-xr-x"));
        trusted.require(install);
    }

    @Test
    void aGroupWritableDirectoryInTheChainIsRefusedByName() throws Exception {
        Path open = dir("opt", "rwxrwxr-x");
        Path install = dir("opt/slipway", "rwxr-xr-x");
        IOException e = assertThrows(IOException.class, () -> trusted.require(install));
        assertTrue(e.getMessage().startsWith(open + " is writable by group"), e.getMessage());
    }

    @Test
    void anAdministratorsGroupMayWriteButOthersMayNot() throws Exception {
        Path open = dir("opt", "rwxrwxr-x");
        Path install = dir("opt/slipway", "rwxr-xr-x");
        String group = Files.readAttributes(open, PosixFileAttributes.class).group().getName();
        new PosixTrustedLocation(System.getProperty("user.name"), Set.of(group)).require(install);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        IOException e = assertThrows(IOException.class, () -> new PosixTrustedLocation(System.getProperty("user.name"), Set.of(group)).require(install));
        assertTrue(e.getMessage().startsWith(open + " is writable by others"), e.getMessage());
    }

    @Test
    void aWorldWritableDirectoryIsRefusedAndSoIsTmpWithItsStickyBit() throws Exception {
        Path open = dir("tmp", "rwxrwxrwx");
        Path install = dir("tmp/slipway", "rwxr-xr-x");
        IOException e = assertThrows(IOException.class, () -> trusted.require(install));
        assertTrue(e.getMessage().startsWith(open + " is writable by group") && e.getMessage().contains("and others"), e.getMessage());
        Path tmp = Path.of("/tmp");
        if (Files.readAttributes(tmp, PosixFileAttributes.class).permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
            Path below = Files.createTempDirectory("slipway-trust-");
            try {
                IOException sticky = assertThrows(IOException.class, () -> trusted.require(below));
                assertTrue(sticky.getMessage().startsWith("/tmp is writable by"), sticky.getMessage());
            } finally {
                Files.delete(below);
            }
        }
    }

    @Test
    void theInstallDirsParentIsJudgedByItsChainNotByWhatElseItHolds() throws Exception {
        Path opt = dir("opt", "rwxr-xr-x");
        Path someoneElses = dir("opt/other-app", "rwxrwxrwx");
        trusted.requireChainOf(opt);
        IOException whole = assertThrows(IOException.class, () -> trusted.require(opt));
        assertTrue(whole.getMessage().startsWith(someoneElses + " is writable"), whole.getMessage());
        Files.setPosixFilePermissions(opt, PosixFilePermissions.fromString("rwxrwxr-x"));
        IOException chainOpen = assertThrows(IOException.class, () -> trusted.requireChainOf(opt));
        assertTrue(chainOpen.getMessage().startsWith(opt + " is writable by group"), chainOpen.getMessage());
    }

    @Test
    void aWritableFileInsideTheInstallDirIsRefused() throws Exception {
        Path install = dir("opt/slipway", "rwxr-xr-x");
        Files.setPosixFilePermissions(chain.resolve("opt"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Files.writeString(install.resolve("helper.jar"), "x");
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-rw-rw-"));
        IOException e = assertThrows(IOException.class, () -> trusted.require(install));
        assertTrue(e.getMessage().startsWith(jar + " is writable by"), e.getMessage());
    }

    @Test
    void aLinkIntoAnOpenDirectoryIsJudgedByWhereItLeads(@TempDir Path elsewhere) throws Exception {
        Files.setPosixFilePermissions(chain, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path link = Files.createSymbolicLink(chain.resolve("slipway"), elsewhere);
        IOException e = assertThrows(IOException.class, () -> trusted.require(link));
        assertTrue(e.getMessage().contains("is writable by"), "the link's target lies under /tmp: " + e.getMessage());
    }

    @Test
    void aDirectoryOwnedByAnotherUserIsRefusedByName() throws Exception {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root: gives a directory to user nobody (chown)");
        Path owned = dir("opt", "rwxr-xr-x");
        Path install = dir("opt/slipway", "rwxr-xr-x");
        UserPrincipal nobody = owned.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Files.setOwner(owned, nobody);
        IOException e = assertThrows(IOException.class, () -> trusted.require(install));
        assertEquals(owned + " is owned by nobody, not root; Slipway's helper is installed and run only from "
                + "locations that nobody but root can change", e.getMessage());
        assertTrue(!Files.readAttributes(owned, PosixFileAttributes.class).permissions().contains(PosixFilePermission.GROUP_WRITE));
    }

    @Test
    void aMissingLocationIsNamed() {
        IOException e = assertThrows(IOException.class, () -> trusted.require(chain.resolve("nope")));
        assertEquals(chain.resolve("nope") + " does not exist", e.getMessage());
    }
}

package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Assumptions;

/**
 * A test directory whose whole chain the helper trusts (the system temp dir is world-writable, so
 * it is not), mode 0755, and that the emulator's unprivileged account can reach when the tests run
 * as root (QEMU then runs as another user): under the module's build directory when its chain
 * allows both, else a root-owned directory of its own under /var/lib (as root) or the user's cache.
 */
final class TestRoot {
    private TestRoot() {
    }

    static Path create(String name) throws IOException {
        boolean root = "root".equals(System.getProperty("user.name"));
        List<Path> bases = List.of(Path.of("target").toAbsolutePath().normalize().resolve("vm-test-roots"),
                root ? Path.of("/var/lib/slipway-vm-test-roots")
                        : Path.of(System.getProperty("user.home"), ".cache", "slipway-vm-test-roots"));
        String problems = "";
        for (Path base : bases) {
            Files.createDirectories(base);
            Path dir = Files.createTempDirectory(base, name);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (TrustedDirectory d = TrustedDirectory.open(dir, new HashSet<>(List.of("root", System.getProperty("user.name"))))) {
                Optional<Path> closed = root ? closedToOthers(dir) : Optional.empty();
                if (closed.isEmpty()) {
                    return dir;
                }
                problems += " " + base + ": " + closed.get() + " cannot be entered by the emulator's account;";
            } catch (dev.slipway.api.helper.HelperException e) {
                problems += " " + base + ": " + e.getMessage() + ";";
            }
            delete(dir);
        }
        Assumptions.abort("no test directory whose chain the helper trusts and the emulator's account can enter ("
                + problems.trim() + "): check out the repository in a directory only its owner can write");
        return null;
    }

    /** The first directory of the chain that other users cannot enter (search permission). */
    private static Optional<Path> closedToOthers(Path dir) throws IOException {
        for (Path p = dir; p != null; p = p.getParent()) {
            if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static Path dir(Path parent, String name) throws IOException {
        Path d = Files.createDirectories(parent.resolve(name));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        return d;
    }

    static void delete(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (var files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}

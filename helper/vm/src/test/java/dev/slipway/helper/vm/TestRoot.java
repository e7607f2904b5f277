package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;

import org.junit.jupiter.api.Assumptions;

/**
 * A test directory whose whole chain the helper trusts (the system temp dir is world-writable, so
 * it is not): under the module's build directory, mode 0755.
 */
final class TestRoot {
    private TestRoot() {
    }

    static Path create(String name) throws IOException {
        // The build directory first; a checkout under a world-writable directory (such as /tmp) is not
        // trusted, so then the user's own cache directory (the home of root is root's alone).
        List<Path> bases = List.of(Path.of("target").toAbsolutePath().normalize().resolve("vm-test-roots"),
                Path.of(System.getProperty("user.home"), ".cache", "slipway-vm-test-roots"));
        String problems = "";
        for (Path base : bases) {
            Files.createDirectories(base);
            Path root = Files.createTempDirectory(base, name);
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (TrustedDirectory d = TrustedDirectory.open(root, new HashSet<>(List.of("root", System.getProperty("user.name"))))) {
                return root;
            } catch (dev.slipway.api.helper.HelperException e) {
                problems += " " + base + ": " + e.getMessage() + ";";
                delete(root);
            }
        }
        Assumptions.abort("no test directory whose chain the helper trusts (" + problems.trim()
                + "): check out the repository in a directory only its owner can write");
        return null;
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

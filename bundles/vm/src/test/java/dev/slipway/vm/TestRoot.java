package dev.slipway.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;

import org.junit.jupiter.api.Assumptions;

/**
 * A test directory whose whole chain the helper trusts (the system temp dir is world-writable, so
 * it is not): under the module's build directory, mode 0755.
 */
final class TestRoot {
    private TestRoot() {
    }

    static Path create(String name) throws IOException {
        Path base = Path.of("target").toAbsolutePath().normalize().resolve("vm-test-roots");
        Files.createDirectories(base);
        Path root = Files.createTempDirectory(base, name);
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (TrustedDirectory d = TrustedDirectory.open(root, new java.util.HashSet<>(java.util.List.of("root", System.getProperty("user.name"))))) {
            return root;
        } catch (dev.slipway.api.helper.HelperException e) {
            Assumptions.abort("the build directory's chain is not one the helper trusts (" + e.getMessage()
                    + "): check out the repository in a directory only its owner can write");
            return root;
        }
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

package dev.slipway.helperclient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The installed copy of the distribution the helper runs from. A distribution built in a user's
 * checkout is that user's to change, so install copies it into the install dir (made by root, modes
 * 0755/0644) and the helper's unit, jars and CLI links point there. The copy is made beside the
 * install dir and moved into place, so a failed copy leaves the previous install as it was; a
 * marker file tells Slipway's install dir from anything else, which is never replaced or removed.
 */
final class DistributionCopy {

    static final String MARKER = ".slipway-install";
    /** What the helper and the CLI need; build stamps and the CLI's class-data archives stay behind. */
    static final List<String> PARTS = List.of("bin", "lib", "bundles", "conf");

    private final Path installDir;

    DistributionCopy(Path installDir) {
        this.installDir = installDir.toAbsolutePath().normalize();
    }

    boolean isSlipwayInstall() {
        return Files.isRegularFile(installDir.resolve(MARKER), LinkOption.NOFOLLOW_LINKS);
    }

    /** Copies {@code dist} into the install dir; nothing to do when the install dir is {@code dist} itself. */
    String installFrom(Path dist) throws IOException {
        Path source = dist.toAbsolutePath().normalize();
        if (Files.exists(installDir) && Files.isSameFile(source, installDir)) {
            return "running from the install dir " + installDir + "; nothing copied";
        }
        for (String part : PARTS) {
            if (!Files.isDirectory(source.resolve(part))) {
                throw new IOException(source + " is not a Slipway distribution (it has no " + part + "/)");
            }
        }
        if (Files.exists(installDir, LinkOption.NOFOLLOW_LINKS) && !isSlipwayInstall()) {
            throw new IOException(installDir + " exists and is not a Slipway install dir (no " + MARKER
                    + "); nothing was changed; choose another with --install-dir");
        }
        Path parent = installDir.getParent();
        Files.createDirectories(parent);
        Path fresh = parent.resolve("." + installDir.getFileName() + ".new");
        Path previous = parent.resolve("." + installDir.getFileName() + ".old");
        delete(fresh);
        delete(previous);
        Files.createDirectory(fresh, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        try {
            for (String part : PARTS) {
                copyTree(source.resolve(part), fresh.resolve(part), part.equals("bin"));
            }
            Files.writeString(fresh.resolve(MARKER), "Slipway, installed by slipway helper install from " + source + "\n",
                    StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(fresh.resolve(MARKER), PosixFilePermissions.fromString("rw-r--r--"));
            if (Files.exists(installDir, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(installDir, previous, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(fresh, installDir, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            delete(fresh);
            delete(previous);
        }
        return "copied " + source + " to " + installDir;
    }

    /** Removes the install dir, only if it is Slipway's. */
    String remove() throws IOException {
        if (!Files.exists(installDir, LinkOption.NOFOLLOW_LINKS)) {
            return installDir + " was not there";
        }
        if (!isSlipwayInstall()) {
            return installDir + " is not a Slipway install dir (no " + MARKER + "); left alone";
        }
        delete(installDir);
        return "removed " + installDir;
    }

    private static void copyTree(Path from, Path to, boolean executables) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path target = to.resolve(from.relativize(dir).toString());
                Files.createDirectory(target);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!attrs.isRegularFile()) {
                    throw new IOException(file + " is not a regular file; a distribution holds only files and folders");
                }
                Path target = to.resolve(from.relativize(file).toString());
                Files.copy(file, target, LinkOption.NOFOLLOW_LINKS);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(executables ? "rwxr-xr-x" : "rw-r--r--"));
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void delete(Path tree) throws IOException {
        if (!Files.exists(tree, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(tree)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}

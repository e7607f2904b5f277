package dev.slipway.links;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Optional;

/** Symbolic-link primitives shared by the CLI links and the docker.sock link. */
final class Links {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Links() {
    }

    /** What is at a path, looked at without following links. */
    sealed interface Existing permits Absent, Link, Other {}

    record Absent() implements Existing {}

    /** A symbolic link and where it points (resolved against its directory, normalized). */
    record Link(Path target) implements Existing {}

    /** A file, directory, socket... anything that is not a link. */
    record Other(String kind) implements Existing {}

    static Existing inspect(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return new Absent();
        }
        if (Files.isSymbolicLink(path)) {
            Path raw = Files.readSymbolicLink(path);
            return new Link(path.getParent().resolve(raw).normalize());
        }
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return new Other(attributes.isDirectory() ? "a directory" : attributes.isRegularFile() ? "a file" : "a socket or device");
    }

    /**
     * Points {@code link} at {@code target} in one step: a new link with a random name in the same
     * directory, renamed over the old one (rename replaces the entry, never a link's target).
     */
    static void replaceAtomically(Path link, Path target) throws IOException {
        Path dir = link.getParent();
        for (int attempt = 0; attempt < 5; attempt++) {
            Path temp = dir.resolve("." + link.getFileName() + ".slipway-" + Long.toUnsignedString(RANDOM.nextLong(), 36));
            try {
                Files.createSymbolicLink(temp, target);
            } catch (FileAlreadyExistsException taken) {
                continue;
            }
            try {
                Files.move(temp, link, StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (IOException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
        }
        throw new IOException("could not create a temporary link in " + dir);
    }

    /**
     * Checks that {@code dir} is a real directory that only its owner can change and that the owner
     * is {@code owner} (or root): otherwise someone else could swap entries under the helper.
     */
    static Optional<String> unsafeDirectory(Path dir, String owner) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.of(dir + " does not exist");
        }
        PosixFileAttributes attributes = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isDirectory()) {
            return Optional.of(dir + " is not a directory (or is a symbolic link)");
        }
        String actual = attributes.owner().getName();
        if (!actual.equals(owner) && !actual.equals("root")) {
            return Optional.of(dir + " is owned by " + actual);
        }
        if (attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
            return Optional.of(dir + " is writable by everyone");
        }
        if (attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)) {
            return Optional.of(dir + " is writable by its group " + attributes.group().getName());
        }
        return Optional.empty();
    }
}

package dev.slipway.api.helper;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * The rule of {@link HelperServiceDefinitions#requireTrusted(Path)} on a POSIX file system: every
 * directory from the root down to a location (as written and with links resolved), and for a
 * directory everything below it, is owned by root (or by the user this process runs as, for an
 * unprivileged helper in tests) and closed to writes by others and by any group but the
 * administrators' groups named (none on Linux; admin and wheel on macOS, whose members are
 * administrators already: /Applications is root:admin 0775). A world-writable directory with the
 * sticky bit (/tmp) is refused too: anyone may create the name the helper is about to use there.
 */
public final class PosixTrustedLocation {

    private final String ownUser;
    private final Set<String> administratorGroups;

    /**
     * @param ownUser             the user this process runs as, trusted like root
     * @param administratorGroups the groups whose write access does not count against a location
     */
    public PosixTrustedLocation(String ownUser, Set<String> administratorGroups) {
        this.ownUser = ownUser;
        this.administratorGroups = Set.copyOf(administratorGroups);
    }

    /** Refuses {@code path} unless only the administrator can change it; the exception names what is wrong. */
    public void require(Path path) throws IOException {
        requireChainOf(path);
        Path real = path.toAbsolutePath().normalize().toRealPath();
        if (Files.isDirectory(real)) {
            requireTree(real);
        }
    }

    /** Refuses {@code directory} unless it and every directory above it are the administrator's alone. */
    public void requireChainOf(Path directory) throws IOException {
        Path absolute = directory.toAbsolutePath().normalize();
        if (!Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException(absolute + " does not exist");
        }
        requireChain(absolute);
        Path real = absolute.toRealPath();
        if (!real.equals(absolute)) {
            requireChain(real);
        }
    }

    /** {@code path} and each directory above it; a link in the chain is judged by the directory holding it and by its target. */
    private void requireChain(Path path) throws IOException {
        for (Path p = path; p != null; p = p.getParent()) {
            PosixFileAttributes attributes = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isSymbolicLink()) {
                requireClosed(p, attributes);
            }
        }
    }

    private void requireTree(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                requireClosed(dir, Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attributes.isSymbolicLink()) {
                    requireOwner(file, attributes); // a link's own mode means nothing; where it points is fixed by its owner
                } else {
                    requireClosed(file, attributes);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private void requireClosed(Path path, PosixFileAttributes attributes) throws IOException {
        requireOwner(path, attributes);
        boolean groupWrite = attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)
                && !administratorGroups.contains(attributes.group().getName());
        boolean otherWrite = attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE);
        if (groupWrite || otherWrite) {
            throw new IOException(path + " is writable by " + (groupWrite && otherWrite ? "group " + attributes.group().getName() + " and others"
                    : groupWrite ? "group " + attributes.group().getName() : "others") + "; Slipway's helper is installed and run only from "
                    + "locations that nobody but root can change");
        }
    }

    private void requireOwner(Path path, PosixFileAttributes attributes) throws IOException {
        String owner = attributes.owner().getName();
        if (!owner.equals("root") && !owner.equals(ownUser)) {
            throw new IOException(path + " is owned by " + owner + ", not root; Slipway's helper is installed and run only from "
                    + "locations that nobody but root can change");
        }
    }
}

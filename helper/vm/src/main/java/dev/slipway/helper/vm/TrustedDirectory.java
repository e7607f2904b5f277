package dev.slipway.helper.vm;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Set;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * A directory opened component by component from {@code /} without following any link, each
 * component checked on the opened descriptor: a real directory, owned by one of the trusted owners,
 * writable by nobody else. Everything done inside it afterwards goes through the descriptor
 * ({@link SecureDirectoryStream}: openat, renameat, unlinkat), so swapping a component for a link
 * after the check changes nothing the helper does.
 */
final class TrustedDirectory implements Closeable {

    private final Path path;
    private final SecureDirectoryStream<Path> stream;

    private TrustedDirectory(Path path, SecureDirectoryStream<Path> stream) {
        this.path = path;
        this.stream = stream;
    }

    Path path() {
        return path;
    }

    SecureDirectoryStream<Path> stream() {
        return stream;
    }

    /**
     * Opens {@code dir}; refuses with {@link HelperErrors#REFUSED} when any component is a link,
     * not a directory, owned by someone else or writable by group or others.
     */
    static TrustedDirectory open(Path dir, Set<String> owners) throws HelperException {
        return open(dir, owners, owners, "");
    }

    /**
     * Like {@link #open(Path, Set)}, with a narrower set of owners for {@code dir} itself than for
     * the directories above it.
     *
     * @param leafHint appended to the refusal of a {@code dir} of another owner: what would be accepted
     */
    static TrustedDirectory open(Path dir, Set<String> owners, Set<String> leafOwners, String leafHint)
            throws HelperException {
        if (!dir.isAbsolute() || !dir.normalize().equals(dir)) {
            throw new HelperException(HelperErrors.INVALID, dir + " is not an absolute, normal path");
        }
        SecureDirectoryStream<Path> current;
        try {
            DirectoryStream<Path> root = Files.newDirectoryStream(dir.getRoot());
            if (!(root instanceof SecureDirectoryStream<Path> secure)) {
                root.close();
                throw new HelperException(HelperErrors.UNAVAILABLE,
                        "this system cannot open directories without following links; the helper moves nothing here");
            }
            current = secure;
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot open " + dir.getRoot() + ": " + e.getMessage(), e);
        }
        Path walked = dir.getRoot();
        try {
            check(walked, current.getFileAttributeView(PosixFileAttributeView.class).readAttributes(), owners);
            for (Path name : dir) {
                walked = walked.resolve(name);
                PosixFileAttributes seen;
                try {
                    seen = current.getFileAttributeView(name, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                            .readAttributes();
                } catch (NoSuchFileException e) {
                    throw new HelperException(HelperErrors.INVALID, walked + " does not exist");
                }
                if (seen.isSymbolicLink()) {
                    throw new HelperException(HelperErrors.REFUSED, walked + " is a symbolic link; the helper follows none");
                }
                SecureDirectoryStream<Path> next;
                try {
                    next = current.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS);
                } catch (FileSystemException e) {
                    throw new HelperException(HelperErrors.REFUSED, walked + " changed while it was checked or is not a directory");
                }
                current.close();
                current = next;
                // checked on the opened descriptor: what was looked at is what is used
                check(walked, current.getFileAttributeView(PosixFileAttributeView.class).readAttributes(), owners);
            }
            checkLeaf(dir, current.getFileAttributeView(PosixFileAttributeView.class).readAttributes(), leafOwners, leafHint);
            return new TrustedDirectory(dir, current);
        } catch (HelperException e) {
            closeQuietly(current);
            throw e;
        } catch (IOException e) {
            closeQuietly(current);
            throw new HelperException(HelperErrors.FAILED, "cannot check " + walked + ": " + e.getMessage(), e);
        }
    }

    private static void check(Path dir, PosixFileAttributes attributes, Set<String> owners) throws HelperException {
        Optional<String> problem = problem(dir, attributes, owners);
        if (problem.isPresent()) {
            throw new HelperException(HelperErrors.REFUSED, problem.get());
        }
    }

    private static void checkLeaf(Path dir, PosixFileAttributes attributes, Set<String> owners, String hint)
            throws HelperException {
        String owner = attributes.owner().getName();
        if (!owners.contains(owner)) {
            throw new HelperException(HelperErrors.REFUSED, dir + " is owned by " + owner + (hint.isEmpty() ? "" : "; " + hint));
        }
    }

    static Optional<String> problem(Path dir, PosixFileAttributes attributes, Set<String> owners) {
        if (!attributes.isDirectory()) {
            return Optional.of(dir + " is not a directory");
        }
        String owner = attributes.owner().getName();
        if (!owners.contains(owner)) {
            return Optional.of(dir + " is owned by " + owner + ", not by root or the installing user");
        }
        if (attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
            return Optional.of(dir + " is writable by everyone");
        }
        if (attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)) {
            return Optional.of(dir + " is writable by its group " + attributes.group().getName());
        }
        return Optional.empty();
    }

    /** Attributes of an entry of this directory, not following a link. */
    Optional<PosixFileAttributes> entry(String name) throws IOException {
        try {
            return Optional.of(stream.getFileAttributeView(Path.of(name), PosixFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS).readAttributes());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        closeQuietly(stream);
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // a directory descriptor that fails to close leaves nothing to undo
        }
    }
}

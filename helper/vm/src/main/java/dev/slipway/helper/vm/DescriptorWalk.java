package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Optional;
import java.util.Set;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.platform.linux.natives.Errno;
import dev.slipway.platform.linux.natives.FileDescriptors;
import dev.slipway.platform.linux.natives.FileStatus;

/**
 * {@link TrustedDirectory}'s walk with raw descriptors, for what is handed to the emulator: each
 * component opened with {@code O_PATH|O_NOFOLLOW|O_DIRECTORY} relative to the previous one and
 * checked on the opened descriptor, then the entry itself opened without following a link. The
 * emulator gets descriptors of exactly the checked files. Reached only where the Linux natives
 * bundle is there ({@link LinuxOnly}).
 */
final class DescriptorWalk {

    /** An {@code O_PATH} descriptor of {@code dir}; same refusals as {@link TrustedDirectory#open}. */
    int directory(Path dir, Set<String> owners) throws HelperException {
        if (!dir.isAbsolute() || !dir.normalize().equals(dir)) {
            throw new HelperException(HelperErrors.INVALID, dir + " is not an absolute, normal path");
        }
        int current;
        try {
            current = openat(FileDescriptors.AT_FDCWD, "/", FileDescriptors.O_PATH | FileDescriptors.O_DIRECTORY);
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot open /: " + e.getMessage());
        }
        Path walked = dir.getRoot();
        try {
            check(walked, current, owners);
            for (Path name : dir) {
                walked = walked.resolve(name);
                int next;
                try {
                    next = openat(current, name.toString(), FileDescriptors.O_PATH | FileDescriptors.O_NOFOLLOW
                            | FileDescriptors.O_DIRECTORY);
                } catch (IOException e) {
                    if (Errno.of(e) == Errno.ENOENT) {
                        throw new HelperException(HelperErrors.INVALID, walked + " does not exist");
                    }
                    throw new HelperException(HelperErrors.REFUSED, walked + " is a symbolic link or not a directory;"
                            + " the helper follows no link");
                }
                FileDescriptors.closeQuietly(current);
                current = next;
                check(walked, current, owners);
            }
            return current;
        } catch (HelperException | RuntimeException e) {
            FileDescriptors.closeQuietly(current);
            throw e;
        }
    }

    /**
     * An {@code O_PATH} descriptor of entry {@code name} of the directory {@code dirfd}, never of a
     * link; empty when there is no such entry.
     */
    Optional<Held> entry(int dirfd, String name) throws HelperException {
        int fd;
        try {
            fd = openat(dirfd, name, FileDescriptors.O_PATH | FileDescriptors.O_NOFOLLOW);
        } catch (IOException e) {
            if (Errno.of(e) == Errno.ENOENT) {
                return Optional.empty();
            }
            throw new HelperException(HelperErrors.FAILED, "cannot open " + name + ": " + e.getMessage());
        }
        try {
            return Optional.of(new Held(fd, FileDescriptors.fstat(fd)));
        } catch (IOException | RuntimeException e) {
            FileDescriptors.closeQuietly(fd);
            throw new HelperException(HelperErrors.FAILED, "cannot stat " + name + ": " + e.getMessage());
        }
    }

    /** An opened entry and what fstat said about it. */
    record Held(int fd, FileStatus stat) {}

    /** openat, close-on-exec always. */
    static int openat(int dirfd, String name, int flags) throws IOException {
        return FileDescriptors.openat(dirfd, name, flags | FileDescriptors.O_CLOEXEC, 0);
    }

    private static void check(Path dir, int fd, Set<String> owners) throws HelperException {
        PosixFileAttributes attributes;
        try {
            // the descriptor's path is the opened directory itself: what is checked is what is used
            attributes = Files.readAttributes(FileDescriptors.path(fd), PosixFileAttributes.class);
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot check " + dir + ": " + e.getMessage(), e);
        }
        Optional<String> problem = TrustedDirectory.problem(dir, attributes, owners);
        if (problem.isPresent()) {
            throw new HelperException(HelperErrors.REFUSED, problem.get());
        }
    }
}

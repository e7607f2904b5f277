package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Optional;
import java.util.Set;

import com.sun.jna.LastErrorException;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * {@link TrustedDirectory}'s walk with raw descriptors, for what is handed to the emulator: each
 * component opened with {@code O_PATH|O_NOFOLLOW|O_DIRECTORY} relative to the previous one and
 * checked on the opened descriptor, then the entry itself opened without following a link. The
 * emulator gets descriptors of exactly the checked files.
 */
final class DescriptorWalk {

    private static final int ENOENT = 2;

    private final LinuxNative linux;

    DescriptorWalk(LinuxNative linux) {
        this.linux = linux;
    }

    /** An {@code O_PATH} descriptor of {@code dir}; same refusals as {@link TrustedDirectory#open}. */
    int directory(Path dir, Set<String> owners) throws HelperException {
        if (!dir.isAbsolute() || !dir.normalize().equals(dir)) {
            throw new HelperException(HelperErrors.INVALID, dir + " is not an absolute, normal path");
        }
        int current = linux.openat(LinuxNative.AT_FDCWD, "/", LinuxNative.O_PATH | LinuxNative.O_DIRECTORY);
        Path walked = dir.getRoot();
        try {
            check(walked, current, owners);
            for (Path name : dir) {
                walked = walked.resolve(name);
                int next;
                try {
                    next = linux.openat(current, name.toString(), LinuxNative.O_PATH | LinuxNative.O_NOFOLLOW
                            | LinuxNative.O_DIRECTORY);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == ENOENT) {
                        throw new HelperException(HelperErrors.INVALID, walked + " does not exist");
                    }
                    throw new HelperException(HelperErrors.REFUSED, walked + " is a symbolic link or not a directory;"
                            + " the helper follows no link");
                }
                linux.close(current);
                current = next;
                check(walked, current, owners);
            }
            return current;
        } catch (HelperException | RuntimeException e) {
            linux.close(current);
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
            fd = linux.openat(dirfd, name, LinuxNative.O_PATH | LinuxNative.O_NOFOLLOW);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == ENOENT) {
                return Optional.empty();
            }
            throw new HelperException(HelperErrors.FAILED, "cannot open " + name + ": " + e.getMessage());
        }
        try {
            return Optional.of(new Held(fd, linux.stat(fd)));
        } catch (LastErrorException e) {
            linux.close(fd);
            throw new HelperException(HelperErrors.FAILED, "cannot stat " + name + ": " + e.getMessage());
        }
    }

    /** An opened entry and what fstat said about it. */
    record Held(int fd, LinuxNative.Stat stat) {
        /** The magic link that reaches exactly this opened file (used to reopen or connect to it). */
        String procPath() {
            return "/proc/self/fd/" + fd;
        }
    }

    private static void check(Path dir, int fd, Set<String> owners) throws HelperException {
        PosixFileAttributes attributes;
        try {
            // /proc/self/fd/N is the opened directory itself: what is checked is what is used
            attributes = Files.readAttributes(Path.of("/proc/self/fd/" + fd), PosixFileAttributes.class);
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot check " + dir + ": " + e.getMessage(), e);
        }
        Optional<String> problem = TrustedDirectory.problem(dir, attributes, owners);
        if (problem.isPresent()) {
            throw new HelperException(HelperErrors.REFUSED, problem.get());
        }
    }
}

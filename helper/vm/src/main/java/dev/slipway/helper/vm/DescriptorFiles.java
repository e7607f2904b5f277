package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.platform.linux.natives.Errno;
import dev.slipway.platform.linux.natives.FileDescriptors;
import dev.slipway.platform.linux.natives.FileStatus;

/**
 * Files opened by descriptor and judged by what the descriptor is (Linux, through the Linux natives
 * bundle): Java opens a FIFO blocking and has no fstat or linkat. A file in a directory a member can
 * write is opened with openat relative to the checked directory, without following a link and without
 * blocking; what it is comes from its descriptor ({@link FileDescriptors#path} reaches the opened file
 * itself), and a new name for it is made from the descriptor too, so a swap of names in between
 * changes nothing. Failures are caught as {@link IOException}, so that this class loads where the
 * natives bundle is absent (off Linux), and every use checks first that it is there.
 */
final class DescriptorFiles {

    static final int S_IFMT = 0170000;
    static final int S_IFREG = 0100000;

    // the natives bundle resolves on Linux only: elsewhere the helper moves and boots nothing
    private final boolean available = LinuxOnly.available();

    /** What an opened descriptor is, from fstat ({@link FileDescriptors#fstat}). */
    record Identity(long device, long inode, long size, int links, int uid, int mode) {
        boolean regularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }

        boolean sameFile(long otherDevice, long otherInode) {
            return device == otherDevice && inode == otherInode;
        }
    }

    /** A file held open by its native descriptor; {@link #channel} reopens the very same file. */
    final class Opened implements AutoCloseable {
        private final int fd;
        final Identity identity;
        final Path where;

        private Opened(int fd, Identity identity, Path where) {
            this.fd = fd;
            this.identity = identity;
            this.where = where;
        }

        /** What the file is now (its size changes as it is written). */
        Identity current() throws IOException {
            return identity(fd);
        }

        /** A path that opens this very file (through the descriptor), whatever its name is now. */
        Path path() {
            return FileDescriptors.path(fd);
        }

        /** A channel on this file: opening {@link FileDescriptors#path} reaches the opened inode, not a name. */
        FileChannel channel(boolean write) throws IOException {
            Path self = FileDescriptors.path(fd);
            return write ? FileChannel.open(self, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(self, StandardOpenOption.READ);
        }

        /**
         * Gives this file the name {@code name} in {@code dir}; never replaces an entry.
         *
         * @return false when {@code dir} is on another file system (then only a copy moves it)
         */
        boolean linkInto(TrustedDirectory dir, String name) throws HelperException, IOException {
            int dirFd = openDirectory(dir);
            try {
                FileDescriptors.linkat(fd, dirFd, name);
                return true;
            } catch (IOException e) {
                if (Errno.of(e) == Errno.EXDEV) {
                    return false;
                }
                if (Errno.of(e) == Errno.EEXIST) {
                    throw new HelperException(HelperErrors.CONFLICT, dir.path().resolve(name)
                            + " already exists; the helper overwrites nothing");
                }
                throw new IOException("linking " + dir.path().resolve(name) + ": " + why(e), e);
            } finally {
                closeQuietly(dirFd);
            }
        }

        @Override
        public void close() {
            closeQuietly(fd);
        }
    }

    /**
     * Opens {@code name} in the checked directory without following a link and without waiting on
     * a FIFO; refuses anything that is not a regular file.
     */
    Opened open(TrustedDirectory dir, String name, boolean write) throws HelperException, IOException {
        Path where = dir.path().resolve(name);
        int dirFd = openDirectory(dir);
        int fd;
        try {
            fd = FileDescriptors.openat(dirFd, name, (write ? FileDescriptors.O_RDWR : FileDescriptors.O_RDONLY)
                    | FileDescriptors.O_NOFOLLOW | FileDescriptors.O_NONBLOCK | FileDescriptors.O_NOCTTY | FileDescriptors.O_CLOEXEC, 0);
        } catch (IOException e) {
            switch (Errno.of(e)) {
                case Errno.ENOENT -> throw new HelperException(HelperErrors.FAILED, where + " is missing");
                case Errno.ELOOP -> throw new HelperException(HelperErrors.REFUSED, where + " is a symbolic link; the helper follows none");
                case Errno.ENXIO -> throw new HelperException(HelperErrors.REFUSED, where + " is not a regular file");
                default -> throw new IOException("opening " + where + ": " + why(e), e);
            }
        } finally {
            closeQuietly(dirFd);
        }
        try {
            Identity identity = identity(fd);
            if (!identity.regularFile()) {
                throw new HelperException(HelperErrors.REFUSED, where + " is not a regular file");
            }
            return new Opened(fd, identity, where);
        } catch (HelperException | IOException | RuntimeException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    /** Creates {@code name} in the checked directory, mode 0600, failing if any entry has that name. */
    Opened create(TrustedDirectory dir, String name) throws HelperException, IOException {
        Path where = dir.path().resolve(name);
        int dirFd = openDirectory(dir);
        int fd;
        try {
            fd = FileDescriptors.openat(dirFd, name, FileDescriptors.O_WRONLY | FileDescriptors.O_CREAT | FileDescriptors.O_EXCL
                    | FileDescriptors.O_NOFOLLOW | FileDescriptors.O_CLOEXEC, 0600);
        } catch (IOException e) {
            if (Errno.of(e) == Errno.EEXIST) {
                throw new HelperException(HelperErrors.CONFLICT, where + " already exists; the helper overwrites nothing");
            }
            throw new IOException("creating " + where + ": " + why(e), e);
        } finally {
            closeQuietly(dirFd);
        }
        try {
            return new Opened(fd, identity(fd), where);
        } catch (IOException | RuntimeException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    /**
     * Removes the entry {@code name} of {@code dir} if it still names {@code file}. In a member's
     * directory the name can be swapped between the look and the unlink; then the unlink removes
     * only a name the member put in their own directory, never a file elsewhere.
     */
    boolean removeIfStill(TrustedDirectory dir, String name, Identity file) throws IOException {
        try (Opened now = open(dir, name, false)) {
            if (!now.identity.sameFile(file.device(), file.inode())) {
                return false;
            }
        } catch (HelperException notThere) {
            return false;
        }
        dir.stream().deleteFile(Path.of(name));
        return true;
    }

    /**
     * The checked directory as a native descriptor: opened by its path, then compared with the
     * checked descriptor, so a directory swapped in meanwhile is refused rather than used.
     */
    private int openDirectory(TrustedDirectory dir) throws HelperException, IOException {
        if (!available) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper checks the VM's disk by descriptor on Linux only");
        }
        int fd;
        try {
            fd = FileDescriptors.open(dir.path().toString(), FileDescriptors.O_RDONLY | FileDescriptors.O_DIRECTORY
                    | FileDescriptors.O_NOFOLLOW | FileDescriptors.O_CLOEXEC, 0);
        } catch (IOException e) {
            throw new HelperException(HelperErrors.REFUSED, dir.path() + " changed while it was used (" + why(e) + ")");
        }
        try {
            Object checked = dir.stream().getFileAttributeView(PosixFileAttributeView.class).readAttributes().fileKey();
            Object opened = Files.readAttributes(FileDescriptors.path(fd), BasicFileAttributes.class).fileKey();
            if (checked == null || !checked.equals(opened)) {
                throw new HelperException(HelperErrors.REFUSED, dir.path() + " changed while it was used");
            }
            return fd;
        } catch (HelperException | IOException | RuntimeException e) {
            closeQuietly(fd);
            throw e;
        }
    }

    private static Identity identity(int fd) throws IOException {
        FileStatus s = FileDescriptors.fstat(fd);
        return new Identity(s.device(), s.inode(), s.size(), s.links(), s.uid(), s.mode());
    }

    /** The error's name and text when a call failed with an errno, else its message. */
    private static String why(IOException e) {
        int errno = Errno.of(e);
        return errno == 0 ? e.getMessage() : Errno.describe(errno);
    }

    private static void closeQuietly(int fd) {
        FileDescriptors.closeQuietly(fd);
    }
}

package dev.slipway.vm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.util.Map;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * Files opened by descriptor and judged by what the descriptor is (Linux, through JNA): Java opens
 * a FIFO blocking and has no fstat or linkat. A file in a directory a member can write is opened
 * with openat relative to the checked directory, without following a link and without blocking;
 * what it is comes from its descriptor ({@code /proc/self/fd/N} is the opened file itself), and a
 * new name for it is made from the descriptor too, so a swap of names in between changes nothing.
 */
final class DescriptorFiles {

    private static final boolean AARCH64 = System.getProperty("os.arch", "").equals("aarch64");
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0x40;
    static final int O_EXCL = 0x80;
    static final int O_NOCTTY = 0x100;
    static final int O_NONBLOCK = 0x800;
    static final int O_CLOEXEC = 0x80000;
    static final int O_DIRECTORY = AARCH64 ? 0x4000 : 0x10000;
    static final int O_NOFOLLOW = AARCH64 ? 0x8000 : 0x20000;
    static final int AT_FDCWD = -100;
    static final int AT_SYMLINK_FOLLOW = 0x400;
    static final int ENOENT = 2;
    static final int ENXIO = 6;
    static final int EEXIST = 17;
    static final int EXDEV = 18;
    static final int ELOOP = 40;
    static final int S_IFMT = 0170000;
    static final int S_IFREG = 0100000;

    interface C extends Library {
        int open(String path, int flags, int mode) throws LastErrorException;

        int openat(int dirfd, String path, int flags, int mode) throws LastErrorException;

        int linkat(int olddirfd, String oldpath, int newdirfd, String newpath, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    // the flag values and /proc/self/fd above are Linux's: elsewhere the helper moves and boots nothing
    private final C c = System.getProperty("os.name", "").equals("Linux") ? Native.load("c", C.class) : null;

    /** What an opened descriptor is, from fstat (through /proc/self/fd). */
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

        /** A channel on this file: opening /proc/self/fd/N reaches the opened inode, not a name. */
        /** A path that opens this very file (through the descriptor), whatever its name is now. */
        Path path() {
            return procPath(fd);
        }

        FileChannel channel(boolean write) throws IOException {
            return write ? FileChannel.open(procPath(fd), StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(procPath(fd), StandardOpenOption.READ);
        }

        /**
         * Gives this file the name {@code name} in {@code dir}; never replaces an entry.
         *
         * @return false when {@code dir} is on another file system (then only a copy moves it)
         */
        boolean linkInto(TrustedDirectory dir, String name) throws HelperException, IOException {
            int dirFd = openDirectory(dir);
            try {
                c.linkat(AT_FDCWD, procPath(fd).toString(), dirFd, name, AT_SYMLINK_FOLLOW);
                return true;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EXDEV) {
                    return false;
                }
                if (e.getErrorCode() == EEXIST) {
                    throw new HelperException(HelperErrors.CONFLICT, dir.path().resolve(name)
                            + " already exists; the helper overwrites nothing");
                }
                throw new IOException("linking " + dir.path().resolve(name) + ": error " + e.getErrorCode(), e);
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
            fd = c.openat(dirFd, name, (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
        } catch (LastErrorException e) {
            switch (e.getErrorCode()) {
                case ENOENT -> throw new HelperException(HelperErrors.FAILED, where + " is missing");
                case ELOOP -> throw new HelperException(HelperErrors.REFUSED, where + " is a symbolic link; the helper follows none");
                case ENXIO -> throw new HelperException(HelperErrors.REFUSED, where + " is not a regular file");
                default -> throw new IOException("opening " + where + ": error " + e.getErrorCode(), e);
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
            fd = c.openat(dirFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == EEXIST) {
                throw new HelperException(HelperErrors.CONFLICT, where + " already exists; the helper overwrites nothing");
            }
            throw new IOException("creating " + where + ": error " + e.getErrorCode(), e);
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
        if (c == null) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper checks the VM's disk by descriptor on Linux only");
        }
        int fd;
        try {
            fd = c.open(dir.path().toString(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new HelperException(HelperErrors.REFUSED, dir.path() + " changed while it was used (error "
                    + e.getErrorCode() + ")");
        }
        try {
            Object checked = dir.stream().getFileAttributeView(PosixFileAttributeView.class).readAttributes().fileKey();
            Object opened = Files.readAttributes(procPath(fd), BasicFileAttributes.class).fileKey();
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
        Map<String, Object> a = Files.readAttributes(procPath(fd), "unix:dev,ino,size,nlink,uid,mode");
        return new Identity((Long) a.get("dev"), (Long) a.get("ino"), (Long) a.get("size"), (Integer) a.get("nlink"),
                (Integer) a.get("uid"), (Integer) a.get("mode"));
    }

    private static Path procPath(int fd) {
        return Path.of("/proc/self/fd", Integer.toString(fd));
    }

    private void closeQuietly(int fd) {
        try {
            c.close(fd);
        } catch (LastErrorException e) {
            // nothing was written through it
        }
    }
}

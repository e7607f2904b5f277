package dev.slipway.helper.hosts;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.DosFileAttributeView;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;

import dev.slipway.api.helper.HostsConventions.WriteStrategy;
import dev.slipway.helper.hosts.HostsContent.MalformedHostsException;

/**
 * Reads and rewrites the system hosts file without ever writing through a symbolic link.
 *
 * <ul>
 * <li>{@link WriteStrategy#REPLACE_BY_RENAME}: a temp file in the same directory, fsync, owner,
 * group, mode and user extended attributes copied, the original's inode checked again, then an
 * atomic rename (which replaces the directory entry, never a link's target) and a directory fsync.
 * A crash leaves either the old or the new file; stale temp files are removed on the next update.
 * <li>{@link WriteStrategy#REWRITE_IN_PLACE_AFTER_BACKUP}: a backup copy and a small journal with
 * the old and new contents' hashes, then an in-place rewrite through the descriptor that was
 * opened without following links. An interrupted rewrite is detected from the journal and the
 * backup restored before the next update.
 * </ul>
 */
public final class HostsFile {

    /** A change to the content; returns the same content when there is nothing to do. */
    @FunctionalInterface
    public interface Change {
        HostsContent apply(HostsContent current) throws MalformedHostsException;
    }

    /** Called after the new content is ready and before it is committed (tests use it to race). */
    @FunctionalInterface
    interface BeforeCommit {
        void run() throws IOException;
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path path;
    private final WriteStrategy strategy;
    private final BeforeCommit beforeCommit;

    public HostsFile(Path path, WriteStrategy strategy) {
        this(path, strategy, () -> { });
    }

    HostsFile(Path path, WriteStrategy strategy, BeforeCommit beforeCommit) {
        this.path = path.toAbsolutePath();
        this.strategy = Objects.requireNonNull(strategy);
        this.beforeCommit = beforeCommit;
    }

    public Path path() {
        return path;
    }

    /** The current content (read without following links). */
    public HostsContent read() throws IOException, MalformedHostsException {
        return HostsContent.decode(readVerified(checkedAttributes()).bytes());
    }

    /**
     * Applies {@code change}; writes only if the content changes.
     *
     * @return whether the file was rewritten
     * @throws IOException with a message for people when the file is a link, read-only, locked or
     *         changes during the update; the file is then unchanged
     */
    public boolean update(Change change) throws IOException, MalformedHostsException {
        if (strategy == WriteStrategy.REWRITE_IN_PLACE_AFTER_BACKUP) {
            recoverInterruptedRewrite();
        } else {
            removeStaleTempFiles();
        }
        BasicFileAttributes before = checkedAttributes();
        Snapshot snapshot = readVerified(before);
        HostsContent current = HostsContent.decode(snapshot.bytes());
        HostsContent next = change.apply(current);
        if (next.equals(current)) {
            return false;
        }
        requireWritable(before);
        byte[] bytes = next.encode();
        if (strategy == WriteStrategy.REPLACE_BY_RENAME) {
            replaceByRename((PosixFileAttributes) before, bytes);
        } else {
            rewriteInPlace(before, snapshot.bytes(), bytes);
        }
        return true;
    }

    private record Snapshot(byte[] bytes) {}

    private BasicFileAttributes checkedAttributes() throws IOException {
        BasicFileAttributes attributes;
        try {
            attributes = strategy == WriteStrategy.REPLACE_BY_RENAME
                    ? Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    : Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new IOException("the hosts file " + path + " does not exist");
        }
        if (attributes.isSymbolicLink()) {
            throw new IOException("the hosts file " + path + " is a symbolic link; Slipway writes nothing through it");
        }
        if (!attributes.isRegularFile()) {
            throw new IOException("the hosts file " + path + " is not a regular file; Slipway leaves it alone");
        }
        return attributes;
    }

    private Snapshot readVerified(BasicFileAttributes before) throws IOException {
        byte[] bytes;
        try (SeekableByteChannel channel = Files.newByteChannel(path, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            long size = channel.size();
            if (size > 64L * 1024 * 1024) {
                throw new IOException("the hosts file " + path + " is larger than 64 MiB; Slipway leaves it alone");
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) size);
            while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
                // read it all
            }
            bytes = buffer.hasRemaining() ? java.util.Arrays.copyOf(buffer.array(), buffer.position()) : buffer.array();
        } catch (FileSystemException e) {
            throw new IOException("cannot read the hosts file " + path + " (a link, or locked?): " + reason(e), e);
        }
        requireSameFile(before, "while it was read");
        return new Snapshot(bytes);
    }

    private void requireSameFile(BasicFileAttributes before, String when) throws IOException {
        BasicFileAttributes now;
        try {
            now = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new IOException("the hosts file " + path + " disappeared " + when + "; nothing written");
        }
        boolean same = now.isRegularFile() && !now.isSymbolicLink()
                && (before.fileKey() == null ? now.size() == before.size() && now.lastModifiedTime().equals(before.lastModifiedTime())
                        : before.fileKey().equals(now.fileKey()));
        if (!same) {
            throw new IOException("the hosts file " + path + " was replaced " + when
                    + " (swapped for a link or another file?); nothing written");
        }
    }

    private void requireWritable(BasicFileAttributes before) throws IOException {
        if (before instanceof PosixFileAttributes posix) {
            if (!posix.permissions().contains(PosixFilePermission.OWNER_WRITE)) {
                throw new IOException("the hosts file " + path + " is read-only (mode "
                        + java.nio.file.attribute.PosixFilePermissions.toString(posix.permissions())
                        + "); make it writable to let Slipway maintain its entries. Nothing was changed");
            }
            return;
        }
        DosFileAttributeView dos = Files.getFileAttributeView(path, DosFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (dos != null && dos.readAttributes().isReadOnly()) {
            throw new IOException("the hosts file " + path + " is read-only; clear its read-only attribute to let Slipway"
                    + " maintain its entries. Nothing was changed");
        }
        PosixFileAttributeView posix = Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (posix != null && !posix.readAttributes().permissions().contains(PosixFilePermission.OWNER_WRITE)) {
            throw new IOException("the hosts file " + path + " is read-only; nothing was changed");
        }
    }

    private void replaceByRename(PosixFileAttributes before, byte[] bytes) throws IOException {
        Path dir = path.getParent();
        Path temp = dir.resolve("." + path.getFileName() + ".slipway-" + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
        boolean committed = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")))) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
            copyAttributes(before, temp);
            beforeCommit.run();
            requireSameFile(before, "during the update");
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            syncDirectory(dir);
        } catch (FileSystemException e) {
            throw new IOException("cannot replace the hosts file " + path + ": " + reason(e) + "; nothing was changed", e);
        } finally {
            if (!committed) {
                Files.deleteIfExists(temp);
            }
        }
    }

    private void copyAttributes(PosixFileAttributes from, Path to) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(to, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        view.setOwner(from.owner());
        view.setGroup(from.group());
        view.setPermissions(from.permissions());
        UserDefinedFileAttributeView source = Files.getFileAttributeView(path, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        UserDefinedFileAttributeView target = Files.getFileAttributeView(to, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (source == null || target == null) {
            return;
        }
        java.util.List<String> names;
        try {
            names = source.list();
        } catch (FileSystemException | UnsupportedOperationException e) {
            return; // the file system has no user extended attributes, so there are none to keep
        }
        for (String name : names) {
            ByteBuffer value = ByteBuffer.allocate(source.size(name));
            source.read(name, value);
            value.flip();
            target.write(name, value);
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Not every OS lets a directory be opened for fsync; the rename itself is already atomic.
        }
    }

    private void removeStaleTempFiles() throws IOException {
        String prefix = "." + path.getFileName() + ".slipway-";
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(path.getParent(), p -> {
            String name = p.getFileName().toString();
            return name.startsWith(prefix) && name.endsWith(".tmp");
        })) {
            for (Path p : stale) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private Path backup() {
        return path.resolveSibling(path.getFileName() + ".slipway.bak");
    }

    private Path journal() {
        return path.resolveSibling(path.getFileName() + ".slipway.pending");
    }

    private void rewriteInPlace(BasicFileAttributes before, byte[] old, byte[] bytes) throws IOException {
        writeSmallFile(backup(), old);
        Properties journal = new Properties();
        journal.setProperty("old", sha256(old));
        journal.setProperty("new", sha256(bytes));
        java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
        journal.store(text, "Slipway hosts rewrite in progress; the backup is " + backup().getFileName());
        writeSmallFile(journal(), text.toByteArray());
        boolean writing = false;
        try (FileChannel channel = FileChannel.open(path, Set.of(StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS))) {
            beforeCommit.run();
            requireSameFile(before, "during the update");
            writing = true;
            writeAll(channel, bytes);
            // The write went through the descriptor opened without following links, so a swap now
            // cannot redirect it; it can only mean the new content landed in a file no longer named hosts.
            requireSameFile(before, "while it was rewritten");
        } catch (FileSystemException e) {
            if (!writing) {
                Files.deleteIfExists(journal());
            }
            throw new IOException("cannot rewrite the hosts file " + path + " (locked or read-only?): " + reason(e)
                    + "; nothing was changed", e);
        } catch (IOException e) {
            if (!writing) {
                Files.deleteIfExists(journal());
            }
            throw e;
        }
        Files.delete(journal());
    }

    private void recoverInterruptedRewrite() throws IOException {
        if (!Files.exists(journal(), LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Properties journal = new Properties();
        try (var in = Files.newInputStream(journal(), LinkOption.NOFOLLOW_LINKS)) {
            journal.load(in);
        }
        byte[] current = readVerified(checkedAttributes()).bytes();
        String hash = sha256(current);
        if (!hash.equals(journal.getProperty("old")) && !hash.equals(journal.getProperty("new"))) {
            byte[] saved = Files.readAllBytes(backup());
            try (FileChannel channel = FileChannel.open(path, Set.of(StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS))) {
                writeAll(channel, saved);
            }
        }
        Files.delete(journal());
    }

    private static void writeAll(FileChannel channel, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        long position = 0;
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
        channel.truncate(bytes.length);
        channel.force(true);
    }

    private static void writeSmallFile(Path file, byte[] bytes) throws IOException {
        Files.deleteIfExists(file);
        try (FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS))) {
            writeAll(channel, bytes);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private static String reason(FileSystemException e) {
        return e.getReason() != null ? e.getReason() : e.getClass().getSimpleName();
    }
}

package dev.slipway.platform.linux.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileDescriptorsTest {
    @TempDir
    Path dir;

    @Test
    void createsRelativeToADirectoryAndLinksByDescriptor() throws IOException {
        int dirFd = FileDescriptors.open(dir.toString(), FileDescriptors.O_RDONLY | FileDescriptors.O_DIRECTORY
                | FileDescriptors.O_NOFOLLOW | FileDescriptors.O_CLOEXEC, 0);
        try {
            int fd = FileDescriptors.openat(dirFd, "disk", FileDescriptors.O_WRONLY | FileDescriptors.O_CREAT
                    | FileDescriptors.O_EXCL | FileDescriptors.O_NOFOLLOW | FileDescriptors.O_CLOEXEC, 0600);
            try {
                ErrnoException exists = assertThrows(ErrnoException.class, () -> FileDescriptors.openat(dirFd, "disk",
                        FileDescriptors.O_WRONLY | FileDescriptors.O_CREAT | FileDescriptors.O_EXCL, 0600));
                assertEquals(Errno.EEXIST, exists.errno());
                FileDescriptors.linkat(fd, dirFd, "moved");
                FileStatus status = FileDescriptors.fstat(fd);
                assertTrue(status.regularFile());
                assertEquals(2, status.links());
                assertEquals(0600, status.mode() & 0777);
                ErrnoException again = assertThrows(ErrnoException.class, () -> FileDescriptors.linkat(fd, dirFd, "moved"));
                assertEquals(Errno.EEXIST, again.errno());
            } finally {
                FileDescriptors.closeQuietly(fd);
            }
        } finally {
            FileDescriptors.closeQuietly(dirFd);
        }
        assertTrue(Files.isRegularFile(dir.resolve("moved")));
    }

    @Test
    void aSymbolicLinkIsNotFollowed() throws IOException {
        Files.createSymbolicLink(dir.resolve("link"), dir.resolve("elsewhere"));
        int dirFd = FileDescriptors.open(dir.toString(), FileDescriptors.O_RDONLY | FileDescriptors.O_DIRECTORY, 0);
        try {
            ErrnoException e = assertThrows(ErrnoException.class,
                    () -> FileDescriptors.openat(dirFd, "link", FileDescriptors.O_RDONLY | FileDescriptors.O_NOFOLLOW, 0));
            assertEquals(Errno.ELOOP, e.errno());
        } finally {
            FileDescriptors.closeQuietly(dirFd);
        }
    }
}

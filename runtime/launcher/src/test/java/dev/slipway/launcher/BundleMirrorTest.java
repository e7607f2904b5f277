package dev.slipway.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleMirrorTest {

    @TempDir
    Path dir;

    @Test
    void anUnchangedJarIsNotCopiedAgain() throws IOException {
        Path jar = Files.write(dir.resolve("a.jar"), new byte[] {1, 2, 3});
        BundleMirror mirror = new BundleMirror(dir.resolve("mirror"));
        Path copy = mirror.mirror(jar);
        Object identity = Files.readAttributes(copy, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        assertEquals(copy, mirror.mirror(jar));
        assertEquals(identity, Files.readAttributes(copy, java.nio.file.attribute.BasicFileAttributes.class).fileKey());
        assertEquals(Files.getLastModifiedTime(jar), Files.getLastModifiedTime(copy));
    }

    @Test
    void aJarRebuiltInPlaceGetsANewCopyAndTheOldOneIsNotWrittenTo() throws IOException {
        Path jar = Files.write(dir.resolve("a.jar"), new byte[] {1, 2, 3});
        BundleMirror mirror = new BundleMirror(dir.resolve("mirror"));
        Path copy = mirror.mirror(jar);
        Object before = Files.readAttributes(copy, java.nio.file.attribute.BasicFileAttributes.class).fileKey();

        Files.write(jar, new byte[] {9, 9, 9, 9}); // a build overwrites the distribution's jar in place
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 2000));
        Path updated = mirror.mirror(jar);

        assertArrayEquals(new byte[] {9, 9, 9, 9}, Files.readAllBytes(updated));
        assertNotEquals(before, Files.readAttributes(updated, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                "a new file is moved into place: a runtime that has the old one open keeps reading the old bytes");
    }
}

package dev.slipway.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The run's own copies of its bundle jars, in a folder of the Slipway home, that the framework
 * installs by reference. A copy is made only when the distribution's jar differs in size or time,
 * and always under a new name moved into place, so:
 * <ul>
 * <li>a rebuild of the distribution (which overwrites its jars in place) never changes a jar under
 * a running runtime;</li>
 * <li>every class has a source that stays the same from one start to the next, which is what lets
 * the JDK's class-data archive hold the bundles' classes (a framework cache copied anew on each
 * start defeats it).</li>
 * </ul>
 */
final class BundleMirror {

    private final Path folder;

    BundleMirror(Path folder) {
        this.folder = folder;
    }

    /** The mirrored copy of {@code jar}, brought up to date first. */
    Path mirror(Path jar) throws IOException {
        Files.createDirectories(folder);
        Path copy = folder.resolve(jar.getFileName());
        BasicFileAttributes source = Files.readAttributes(jar, BasicFileAttributes.class);
        if (Files.isRegularFile(copy)) {
            BasicFileAttributes existing = Files.readAttributes(copy, BasicFileAttributes.class);
            if (existing.size() == source.size() && existing.lastModifiedTime().equals(source.lastModifiedTime())) {
                return copy;
            }
        }
        Path temporary = folder.resolve(jar.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        Files.copy(jar, temporary, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(temporary, source.lastModifiedTime());
        Files.move(temporary, copy, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return copy;
    }
}

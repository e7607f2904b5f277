package dev.slipway.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DirectoryChangesTest {

    @TempDir
    Path tmp;

    private final Semaphore runs = new Semaphore(0);

    @Test
    void aFileDroppedEditedOrRemovedRunsTheActionAndNothingElseDoes() throws Exception {
        Path deploy = Files.createDirectories(tmp.resolve("deploy"));
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        try (DirectoryChanges changes = new DirectoryChanges("test-wake", runs::release, RECHECK_MS)) {
            assertFalse(changes.fellBack(), "file-change notifications are available here");
            changes.watch(Set.of(deploy));
            assertTrue(runs.tryAcquire(10, TimeUnit.SECONDS), "a newly watched directory runs the action once");
            assertQuiet();

            Path part = Files.writeString(tmp.resolve("a.jar.part"), "jar");
            Files.move(part, deploy.resolve("a.jar"), StandardCopyOption.ATOMIC_MOVE);
            assertRunsAfterChange();

            changes.watch(Set.of(deploy, conf));
            assertTrue(runs.tryAcquire(10, TimeUnit.SECONDS), "conf/ added");
            Files.writeString(conf.resolve("dev.slipway.dns.cfg"), "ttl = 5\n");
            assertRunsAfterChange();
            Files.writeString(conf.resolve("dev.slipway.dns.cfg"), "ttl = 6\n");
            assertRunsAfterChange();
            Files.delete(deploy.resolve("a.jar"));
            assertRunsAfterChange();

            changes.watch(Set.of(conf));
            Files.writeString(deploy.resolve("b.jar"), "not watched any more");
            assertQuiet();
            assertEquals(Set.of(conf), changes.watched());
        }
    }

    private static final long RECHECK_MS = 300;

    /** The action runs at once after the burst settles, then again after the recheck time, twice and four times it. */
    private void assertRunsAfterChange() throws InterruptedException {
        assertTrue(runs.tryAcquire(10, TimeUnit.SECONDS), "the change ran the action");
        assertTrue(runs.tryAcquire(3, 10, TimeUnit.SECONDS), "and three times more after the burst");
        assertQuiet();
    }

    private void assertQuiet() throws InterruptedException {
        assertFalse(runs.tryAcquire(4 * RECHECK_MS + 1500, TimeUnit.MILLISECONDS), "no change, no action");
    }
}

package dev.slipway.helper.hosts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a process in the middle of hosts updates, many times: after every kill the file
 * parses and every line outside Slipway's block is byte-for-byte the original.
 *
 * <p>Each kill costs a fresh JVM (about 0.2-0.4 s here), so the unit suite runs
 * {@code slipway.killtest.count} kills (default 200, bounded by {@code slipway.killtest.seconds},
 * default 90); {@code bench/helper-kill.sh} runs the full 1000.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class KillDuringUpdateTest {

    @TempDir
    Path dir;

    @Test
    void theHostsFileSurvivesKill9DuringUpdates() throws Exception {
        int kills = Integer.getInteger("slipway.killtest.count", 200);
        long budgetNanos = TimeUnit.SECONDS.toNanos(Long.getLong("slipway.killtest.seconds", 90));
        StringBuilder original = new StringBuilder("# hosts file under test\n127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n");
        for (int i = 0; i < 300; i++) {
            original.append("10.0.").append(i / 250).append('.').append(i % 250 + 1).append(" host-").append(i).append(".lan");
            original.append(i % 7 == 0 ? "   # trailing comment \t\n" : "\n");
        }
        byte[] originalBytes = original.toString().getBytes(StandardCharsets.UTF_8);
        List<String> expectedOutside = HostsContent.decode(originalBytes).linesOutsideBlock();
        Path hosts = dir.resolve("hosts");
        Files.write(hosts, originalBytes);

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Random random = new Random(42);
        long started = System.nanoTime();
        int done = 0;
        int withBlock = 0;
        while (done < kills && System.nanoTime() - started < budgetNanos) {
            Process child = new ProcessBuilder(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), HostsChurn.class.getName(), hosts.toString(),
                    "REPLACE_BY_RENAME").redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertEquals("ready", line, "child did not start");
            Thread.sleep(random.nextInt(30));
            child.destroyForcibly(); // SIGKILL on Unix
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            done++;

            byte[] bytes = Files.readAllBytes(hosts);
            HostsContent content = HostsContent.decode(bytes);
            assertEquals(expectedOutside, content.linesOutsideBlock(), "lines outside the block after kill " + done);
            List<String> block = content.blockLines();
            assertTrue(block.isEmpty() || block.equals(List.of("127.0.0.1 kubernetes.docker.internal",
                    "10.9.8.7 host.docker.internal", "10.9.8.7 gateway.docker.internal")), "block after kill " + done + ": " + block);
            if (!block.isEmpty()) {
                withBlock++;
            }
            assertTrue(Files.isRegularFile(hosts, LinkOption.NOFOLLOW_LINKS));
            List<Path> temps = new ArrayList<>();
            try (var files = Files.list(dir)) {
                files.filter(p -> !p.equals(hosts)).forEach(temps::add);
            }
            assertTrue(temps.size() <= 1, "at most the one temp file of the killed update is left: " + temps);
        }
        System.out.printf("kill -9 test: %d kills in %.1f s, %d left the block in place, %d without it%n",
                done, (System.nanoTime() - started) / 1e9, withBlock, done - withBlock);
        assertTrue(done >= Math.min(kills, 50), "only " + done + " kills fit in the time budget");
        assertTrue(withBlock > 0 && withBlock < done, "kills landed in both phases of the loop");
    }
}

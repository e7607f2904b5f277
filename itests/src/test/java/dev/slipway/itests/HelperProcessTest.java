package dev.slipway.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.PosixTrustedLocation;
import dev.slipway.helperclient.SocketHelperClient;
import dev.slipway.testing.Commands;
import dev.slipway.testing.Prerequisites;

/**
 * The privileged helper as the service manager starts it: the distribution's {@code bin/slipway-helper}
 * boots the launcher with {@code cnf/helper.bndrun}; the helper serves every operation of the schema on
 * its socket and edits the (test's) hosts file.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HelperProcessTest {

    @TempDir
    Path dir;

    @Test
    void theHelperProcessServesEveryOperationOfTheSchema() throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "the helper process under test is Linux's");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
        String group = Files.readAttributes(dir, PosixFileAttributes.class).group().getName();
        Path dist = trustedDistribution();
        ProcessBuilder builder = new ProcessBuilder(dist.resolve("bin/slipway-helper").toString(),
                "--helper.config", dir.resolve("helper.properties").toString(),
                "--helper.socket", run.resolve("helper.sock").toString(),
                "--helper.group", group,
                "--helper.audit-log", dir.resolve("log/audit.log").toString(),
                "--helper.hosts-file", dir.resolve("hosts").toString(),
                "--helper.bin-dir", Files.createDirectories(dir.resolve("bin")).toString(),
                "--helper.install-dir", Files.createDirectories(dir.resolve("opt/slipway/bin")).getParent().toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("helper.log").toFile());
        builder.environment().put("SLIPWAY_HELPER_RUNTIME_DIR", dir.resolve("helper-run").toString());
        builder.environment().put("SLIPWAY_HELPER_HOME", dir.resolve("helper-home").toString());
        Process helper = builder.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(run.resolve("helper.sock")) && helper.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(run.resolve("helper.sock")), "the helper never listened: " + Files.readString(dir.resolve("helper.log")));
            SocketHelperClient client = new SocketHelperClient(run.resolve("helper.sock"), Duration.ofSeconds(10));
            TreeSet<String> expected = new TreeSet<>(HelperSchema.operations().keySet());
            TreeSet<Object> served = new TreeSet<>();
            // handlers bind as their bundles start, which may be just after the socket opens
            for (long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); !served.equals(expected) && System.nanoTime() < until; ) {
                served = new TreeSet<>((List<?>) client.call("health", Map.of()).get("operations"));
                if (!served.equals(expected)) {
                    Thread.sleep(100);
                }
            }
            assertEquals(expected, served, "the helper's bundle set serves every operation of the schema");
            assertEquals(Boolean.TRUE, client.call("hosts.ensure", Map.of()).get("changed"));
            assertTrue(Files.readString(dir.resolve("hosts")).contains("127.0.0.1 kubernetes.docker.internal"));
            assertTrue(Files.readString(dir.resolve("log/audit.log")).contains("hosts.ensure"));
        } finally {
            helper.destroy();
            helper.waitFor(30, TimeUnit.SECONDS);
            if (!dist.equals(SlipwayRuntimeOptions.dist())) {
                Commands.quietly("rm", "-rf", dist.getParent().toString());
            }
        }
    }

    /**
     * The helper starts only from a distribution nobody but root can change: the build's own when the
     * checkout's chain of directories is closed, else (a checkout under /tmp, say) a copy under
     * /var/lib made for this test, as root.
     */
    private static Path trustedDistribution() throws Exception {
        Path built = SlipwayRuntimeOptions.dist();
        PosixTrustedLocation trust = new PosixTrustedLocation(System.getProperty("user.name"), Set.of());
        try {
            trust.require(built);
            return built;
        } catch (IOException untrusted) {
            Assumptions.assumeTrue(Prerequisites.isRoot(), "the helper refuses to start from " + built + " ("
                    + untrusted.getMessage() + ") and only root can make a trusted copy: run the tests as root (CI does)");
            Path copies = Files.createTempDirectory(Files.createDirectories(Path.of("/var/lib")), "slipway-helper-itest-");
            Files.setPosixFilePermissions(copies, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path copy = copies.resolve("slipway");
            Commands.check("cp", "-R", "--no-preserve=ownership", built.toString(), copy.toString());
            Commands.check("chmod", "-R", "go-w", copy.toString());
            trust.require(copy);
            return copy;
        }
    }
}

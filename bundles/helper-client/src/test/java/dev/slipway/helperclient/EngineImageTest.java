package dev.slipway.helperclient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.control.CommandResult;

/** {@code slipway vm image}'s words and what it says when something it needs is missing; no real image is built. */
class EngineImageTest {
    @TempDir
    Path dist;

    private CommandResult run(Optional<Path> distribution, String... args) throws Exception {
        return new VmCommand(null, new EngineImage(distribution, Duration.ofSeconds(30))).execute(List.of(args));
    }

    private Path script(String body) throws IOException {
        Path s = dist.resolve(EngineImage.SCRIPT);
        Files.createDirectories(s.getParent());
        Files.writeString(s, body);
        return s;
    }

    @Test
    void badWordsAreUsageErrors() throws Exception {
        for (String[] args : new String[][] {{"image", "extra"}, {"image", "--out"}, {"image", "--out", "relative/dir"},
                {"image", "--kernel-version", "6.1; rm -rf /"}, {"image", "--out", "/a", "--out", "/b"}, {"image", "--out", " "}}) {
            CommandResult r = run(Optional.of(dist), args);
            assertEquals(2, r.exitCode(), String.join(" ", args));
            assertTrue((r.out() + r.err()).contains("usage: slipway vm image"), (r.out() + r.err()));
        }
    }

    @Test
    void withoutADistributionItSaysWhereTheScriptIs() throws Exception {
        CommandResult r = run(Optional.empty(), "image");
        assertEquals(1, r.exitCode());
        assertTrue((r.out() + r.err()).contains("slipway.dist is not set") && (r.out() + r.err()).contains("guest/build-engine-image.sh"), (r.out() + r.err()));
    }

    @Test
    void aDistributionWithoutTheScriptSaysSo() throws Exception {
        CommandResult r = run(Optional.of(dist), "image");
        assertEquals(1, r.exitCode());
        assertTrue((r.out() + r.err()).contains("has no lib/guest/build-engine-image.sh"), (r.out() + r.err()));
        assertTrue((r.out() + r.err()).contains("run guest/build-engine-image.sh"), (r.out() + r.err()));
    }

    @Test
    void theScriptsMissingPrerequisiteIsShown() throws Exception {
        script("echo 'missing dockerd: apt-get install -y docker.io' >&2; exit 1\n");
        CommandResult r = run(Optional.of(dist), "image");
        assertEquals(1, r.exitCode());
        assertTrue((r.out() + r.err()).startsWith("missing dockerd: apt-get install -y docker.io\n"), (r.out() + r.err()));
        assertTrue((r.out() + r.err()).contains("exited 1"), (r.out() + r.err()));
    }

    @Test
    void theRealScriptNamesAMissingKernel() throws Exception {
        Path real = Path.of(System.getProperty("user.dir")).resolve("../../guest/build-engine-image.sh").normalize();
        script(Files.readString(real));
        CommandResult r = run(Optional.of(dist), "image", "--kernel-version", "0.0.0-not-installed", "--out", dist.resolve("out").toString());
        assertEquals(1, r.exitCode());
        assertTrue((r.out() + r.err()).contains("missing a kernel with modules: apt-get install -y linux-image-amd64"), (r.out() + r.err()));
        assertTrue(Files.notExists(dist.resolve("out")), "nothing is built");
    }

    @Test
    void progressAndWhereTheImageIsArePrinted() throws Exception {
        Path out = dist.resolve("images");
        script("""
                [ "$1" = --out ] && [ "$3" = --kernel-version ] && [ "$4" = 6.1.0-1-amd64 ] || { echo "bad arguments: $*" >&2; exit 2; }
                echo "building the engine image" >&2
                echo "$2/engine-0123"
                """);
        CommandResult r = run(Optional.of(dist), "image", "--out", out.toString(), "--kernel-version", "6.1.0-1-amd64");
        assertEquals(0, r.exitCode(), (r.out() + r.err()));
        assertTrue(r.err().startsWith("building the engine image\n"), r.err());
        assertTrue((r.out() + r.err()).contains("kernel:  " + out.resolve("engine-0123/vmlinuz") + "\n"), (r.out() + r.err()));
        assertTrue((r.out() + r.err()).contains("initrd:  " + out.resolve("engine-0123/initrd.img") + "\n"), (r.out() + r.err()));
        assertTrue((r.out() + r.err()).contains("--setting vm-kernel=" + out.resolve("engine-0123/vmlinuz")), (r.out() + r.err()));
    }

    @Test
    void aScriptThatSaysNothingIsAFailure() throws Exception {
        script("exit 0\n");
        CommandResult r = run(Optional.of(dist), "image");
        assertEquals(1, r.exitCode());
        assertTrue((r.out() + r.err()).contains("did not say where the image is"), (r.out() + r.err()));
    }
}

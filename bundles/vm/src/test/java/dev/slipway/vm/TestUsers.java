package dev.slipway.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import dev.slipway.api.helper.HelperCall.Caller;

/**
 * Two real members of a real group (groupadd/useradd, removed by {@link #close()}), so directories
 * and files can belong to them the way they would on a member's machine. Needs root.
 */
final class TestUsers implements AutoCloseable {

    final String group;
    final String alice;
    final String bob;
    private final List<List<String>> cleanup = new ArrayList<>();

    private TestUsers(String suffix) {
        group = "slwvg" + suffix;
        alice = "slwva" + suffix;
        bob = "slwvb" + suffix;
    }

    /** Creates the group and its two members, or aborts the test saying what is missing. */
    static TestUsers create() throws IOException, InterruptedException {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root (CI runs as root): creates two member users with useradd");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/useradd")) && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                "needs useradd and setpriv: apt-get install -y passwd util-linux");
        TestUsers users = new TestUsers(Integer.toString(ThreadLocalRandom.current().nextInt(10_000, 99_999)));
        try {
            run("groupadd", users.group);
            users.cleanup.add(List.of("groupdel", users.group));
            for (String user : List.of(users.alice, users.bob)) {
                run("useradd", "--no-create-home", "--user-group", "--groups", users.group, "--shell", "/usr/sbin/nologin", user);
                users.cleanup.add(0, List.of("userdel", user));
            }
            return users;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            users.close();
            throw e;
        }
    }

    Caller caller(String user) {
        return new Caller(user, user);
    }

    /** Gives {@code path} (not following a link) to {@code user}. */
    static void own(Path path, String user) throws IOException {
        var lookup = path.getFileSystem().getUserPrincipalLookupService();
        Files.getFileAttributeView(path, java.nio.file.attribute.PosixFileAttributeView.class,
                java.nio.file.LinkOption.NOFOLLOW_LINKS).setOwner(lookup.lookupPrincipalByName(user));
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }

    @Override
    public void close() {
        for (List<String> command : cleanup) {
            try {
                new ProcessBuilder(command).redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
            } catch (IOException e) {
                // left for the machine's next cleanup; the names are random
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}

package dev.slipway.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Assumptions;

/**
 * Real users and one real group for tests (groupadd/useradd, removed again by {@link #close()}),
 * and commands run as one of them with setpriv. Names are a prefix, a letter and a random number
 * (say {@code slwtg12345}), so that runs never meet and a killed run's leftovers never clash.
 * Needs root.
 */
public final class TestUsers implements AutoCloseable {
    private final String prefix;
    private final String suffix;
    private final String group;
    private final List<List<String>> cleanup = new ArrayList<>();

    private TestUsers(String prefix) {
        this.prefix = prefix;
        this.suffix = Integer.toString(ThreadLocalRandom.current().nextInt(10_000, 99_999));
        this.group = prefix + "g" + suffix;
    }

    /**
     * Creates the group {@code prefix + "g" + number}, or skips the calling test saying what is missing.
     *
     * @param why what the test needs the users for (the skip message when not root)
     */
    public static TestUsers create(String prefix, String why) throws IOException, InterruptedException {
        Prerequisites.assumeRoot(why);
        Assumptions.assumeTrue(Prerequisites.onPath("useradd") && Prerequisites.onPath("setpriv"),
                "needs useradd and setpriv: apt-get install -y passwd util-linux");
        TestUsers users = new TestUsers(prefix);
        try {
            Commands.check(Duration.ofSeconds(30), "groupadd", users.group);
            users.cleanup.add(List.of("groupdel", users.group));
            return users;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            users.close();
            throw e;
        }
    }

    /** The group's name. */
    public String group() {
        return group;
    }

    /** A new user {@code prefix + letter + number} in the group, with its own primary group. */
    public String member(String letter) throws IOException, InterruptedException {
        return add(letter, true);
    }

    /** A new user {@code prefix + letter + number} outside the group, with its own primary group. */
    public String outsider(String letter) throws IOException, InterruptedException {
        return add(letter, false);
    }

    private String add(String letter, boolean member) throws IOException, InterruptedException {
        String user = prefix + letter + suffix;
        List<String> command = new ArrayList<>(List.of("useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin"));
        if (member) {
            command.addAll(List.of("--groups", group));
        }
        command.add(user);
        try {
            Commands.check(Duration.ofSeconds(30), command.toArray(String[]::new));
        } finally {
            cleanup.add(0, List.of("userdel", user));
        }
        return user;
    }

    /**
     * {@code command} run as {@code user} with its primary and supplementary groups (setpriv), in
     * {@code dir}, which is also its HOME.
     */
    public static ProcessBuilder as(String user, Path dir, String... command) {
        List<String> line = new ArrayList<>(List.of("setpriv", "--reuid=" + user, "--regid=" + user, "--init-groups", "--"));
        line.addAll(List.of(command));
        ProcessBuilder builder = new ProcessBuilder(line).directory(dir.toFile());
        builder.environment().put("HOME", dir.toString());
        return builder;
    }

    /** Gives {@code path} (not following a link) to {@code user}. */
    public static void own(Path path, String user) throws IOException {
        var lookup = path.getFileSystem().getUserPrincipalLookupService();
        Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                .setOwner(lookup.lookupPrincipalByName(user));
    }

    /** Removes the users, then the group; what cannot be removed is left (the names are random). */
    @Override
    public void close() {
        for (List<String> command : cleanup) {
            Commands.quietly(command.toArray(String[]::new));
        }
        cleanup.clear();
    }
}

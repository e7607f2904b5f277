package dev.slipway.helper.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

import dev.slipway.api.helper.AccountDirectory;

/** Starts a real helper on a socket in a test directory, serving the test process's own primary group. */
final class TestHelpers {

    private TestHelpers() {
    }

    static String ownGroup(Path dir) throws IOException {
        Path probe = Files.createTempFile(dir, "group", ".probe");
        try {
            return Files.readAttributes(probe, PosixFileAttributes.class).group().getName();
        } finally {
            Files.delete(probe);
        }
    }

    static AccountDirectory accounts(Set<String> members) {
        return new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return members; }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.empty(); }
        };
    }

    static Helper start(Path dir, String group, Optional<String> onlyUser, AccountDirectory accounts,
            Helper.Limits limits) throws IOException {
        Path runDir = dir.resolve("run");
        Files.createDirectories(runDir);
        Files.setPosixFilePermissions(runDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Helper.Config config = new Helper.Config(runDir.resolve("helper.sock"), group, onlyUser,
                dir.resolve("log/audit.log"), "test", limits);
        Helper helper = new Helper(config, accounts, Clock.systemUTC());
        helper.start();
        return helper;
    }

    static Helper start(Path dir) throws IOException {
        return start(dir, ownGroup(dir), Optional.empty(), accounts(Set.of()),
                new Helper.Limits(64, 4, Duration.ofMillis(800)));
    }
}

package dev.slipway.platform.macos;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.platform.CommandRunner;

/** Users and groups from Directory Services through {@code dscl}. */
@Component(service = AccountDirectory.class)
public final class MacOsAccountDirectory implements AccountDirectory {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private final CommandRunner commands;

    @Activate
    public MacOsAccountDirectory(@Reference CommandRunner commands) {
        this.commands = commands;
    }

    @Override
    public Set<String> groupMembers(String group) throws IOException {
        return read("/Groups/" + group, "GroupMembership")
                .map(v -> Arrays.stream(v.split("\\s+")).filter(s -> !s.isEmpty()).collect(Collectors.toSet()))
                .orElse(Set.of());
    }

    @Override
    public boolean groupExists(String group) throws IOException {
        return read("/Groups/" + group, "PrimaryGroupID").isPresent();
    }

    @Override
    public Optional<Path> homeDirectory(String user) throws IOException {
        return read("/Users/" + user, "NFSHomeDirectory").filter(v -> v.startsWith("/")).map(Path::of);
    }

    /** {@code dscl . -read RECORD KEY} prints {@code KEY: value} (or the value on the next line). */
    private Optional<String> read(String record, String key) throws IOException {
        if (!record.matches("/(Groups|Users)/[A-Za-z0-9_][A-Za-z0-9_.-]*")) {
            return Optional.empty();
        }
        CommandRunner.Result result = commands.run(List.of("dscl", ".", "-read", record, key), TIMEOUT);
        if (!result.succeeded()) {
            return Optional.empty();
        }
        String out = result.stdout().strip();
        String prefix = key + ":";
        if (!out.startsWith(prefix)) {
            return Optional.empty();
        }
        String value = out.substring(prefix.length()).strip();
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }
}

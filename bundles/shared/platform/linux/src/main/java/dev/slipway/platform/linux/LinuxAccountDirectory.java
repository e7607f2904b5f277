package dev.slipway.platform.linux;

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

/** Users and groups through {@code getent}, so NSS sources (LDAP, sssd) count as well as /etc/group. */
@Component(service = AccountDirectory.class)
public final class LinuxAccountDirectory implements AccountDirectory {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private final CommandRunner commands;

    @Activate
    public LinuxAccountDirectory(@Reference CommandRunner commands) {
        this.commands = commands;
    }

    @Override
    public Set<String> groupMembers(String group) throws IOException {
        return groupEntry(group).map(fields -> fields.length < 4 || fields[3].isEmpty() ? Set.<String>of()
                : Arrays.stream(fields[3].split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet()))
                .orElse(Set.of());
    }

    @Override
    public boolean groupExists(String group) throws IOException {
        return groupEntry(group).isPresent();
    }

    @Override
    public Optional<Path> homeDirectory(String user) throws IOException {
        Optional<String[]> entry = entry("passwd", user);
        return entry.filter(f -> f.length >= 6 && f[5].startsWith("/")).map(f -> Path.of(f[5]));
    }

    private Optional<String[]> groupEntry(String group) throws IOException {
        return entry("group", group);
    }

    /** One getent line split on ':'; empty when the name is unknown (exit code 2). */
    private Optional<String[]> entry(String database, String name) throws IOException {
        if (name.startsWith("-") || name.contains(":") || name.contains("\n")) {
            return Optional.empty();
        }
        CommandRunner.Result result = commands.run(List.of("getent", database, name), TIMEOUT);
        if (result.exitCode() == 2) {
            return Optional.empty();
        }
        if (!result.succeeded()) {
            throw new IOException("getent " + database + " " + name + " failed: " + result.stderr().strip());
        }
        String line = result.stdout().lines().findFirst().orElse("");
        return line.isEmpty() ? Optional.empty() : Optional.of(line.split(":", -1));
    }
}

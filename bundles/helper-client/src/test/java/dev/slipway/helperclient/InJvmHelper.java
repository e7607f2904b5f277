package dev.slipway.helperclient;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.HostsConventions;
import dev.slipway.api.helper.SystemPlan;
import dev.slipway.api.helper.SystemPlanRunner;
import dev.slipway.api.platform.Platform;
import dev.slipway.helper.server.Helper;
import dev.slipway.helper.server.LinkOperations;
import dev.slipway.helper.hosts.HostsOperations;

/**
 * The helper's bundles wired the way SCR wires them (public DS constructors), with every system
 * location inside a test root: {@code root/etc/hosts}, {@code root/usr/local/bin},
 * {@code root/opt/slipway}, {@code root/run/docker.sock}, {@code root/run/slipway/helper.sock}.
 */
final class InJvmHelper implements Closeable {

    final Path root;
    final Path socket;
    final Path hosts;
    final Path bin;
    final Path install;
    final Path dockerSock;
    final Path auditLog;
    final List<SystemPlan> appliedPlans = new ArrayList<>();
    final Helper helper;

    InJvmHelper(Path root, String group, Optional<String> onlyUser, AccountDirectory accounts, Helper.Limits limits) throws IOException {
        this.root = root;
        Path run = Files.createDirectories(root.resolve("run/slipway"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(root.resolve("run"), PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = run.resolve("helper.sock");
        hosts = Files.createDirectories(root.resolve("etc")).resolve("hosts");
        if (!Files.exists(hosts)) {
            Files.writeString(hosts, "127.0.0.1 localhost\n::1 localhost\n");
        }
        bin = Files.createDirectories(root.resolve("usr/local/bin"));
        Files.setPosixFilePermissions(bin, PosixFilePermissions.fromString("rwxr-xr-x"));
        install = Files.createDirectories(root.resolve("opt/slipway/bin")).getParent();
        for (String tool : List.of("docker", "kubectl", "slipway")) {
            Files.writeString(install.resolve("bin").resolve(tool), "#!/bin/sh\n");
        }
        dockerSock = root.resolve("run/docker.sock");
        auditLog = root.resolve("var/log/slipway/helper-audit.log");

        Map<String, String> values = new HashMap<>();
        values.put(HelperSettings.HOSTS_FILE, hosts.toString());
        values.put(HelperSettings.BIN_DIR, bin.toString());
        values.put(HelperSettings.INSTALL_DIR, install.toString());
        values.put(HelperSettings.DOCKER_SOCK, dockerSock.toString());
        HelperSettings settings = key -> Optional.ofNullable(values.get(key));
        Platform platform = platform(root);
        HostsConventions conventions = new HostsConventions() {
            @Override public WriteStrategy writeStrategy() { return WriteStrategy.REPLACE_BY_RENAME; }
            @Override public String lineSeparator() { return "\n"; }
            @Override public boolean hostGatewayNamesByDefault() { return false; }
        };
        HelperServiceDefinitions definitions = new dev.slipway.platform.linux.LinuxHelperService(
                (command, timeout) -> new dev.slipway.api.platform.CommandRunner.Result(0, "0\n", ""));
        SystemPlanRunner plans = plan -> {
            synchronized (appliedPlans) {
                appliedPlans.add(plan);
            }
        };
        helper = new Helper(new Helper.Config(socket, group, onlyUser, auditLog, "test", limits), accounts, Clock.systemUTC());
        HostsOperations hostsOps = new HostsOperations(settings, platform, conventions);
        helper.register("hosts.ensure", hostsOps);
        helper.register("hosts.remove", hostsOps);
        LinkOperations links = new LinkOperations(settings, platform, accounts, definitions, plans);
        for (String op : List.of("symlinks.install", "symlinks.remove", "dockersock.link", "dockersock.unlink")) {
            helper.register(op, links);
        }
        helper.start();
    }

    static Helper.Limits limits() {
        return new Helper.Limits(64, 4, Duration.ofSeconds(2));
    }

    static Platform platform(Path root) {
        return new Platform() {
            @Override public String osName() { return "linux"; }
            @Override public Path hostsFile() { return root.resolve("etc/hosts"); }
            @Override public Path helperSocket() { return root.resolve("run/slipway/helper.sock"); }
            @Override public Path userBinDir() { return root.resolve("home/user/.slipway/bin"); }
            @Override public Path systemBinDir() { return root.resolve("usr/local/bin"); }
            @Override public Path systemInstallDir() { return root.resolve("opt/slipway"); }
            @Override public Path userInstallDir() { return root.resolve("home/user/.local/share/slipway"); }
            @Override public Path runtimeDir() { return root.resolve("home/user/.slipway/run"); }
        };
    }

    SocketHelperClient client() {
        return new SocketHelperClient(socket, Duration.ofSeconds(20));
    }

    @Override
    public void close() throws IOException {
        helper.close();
    }
}

package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.testing.GuestImage;

/**
 * The helper's VM manager booting Slipway's engine guest for the engine tests of networking/ports:
 * QEMU as the unprivileged {@code nobody}, with the descriptors the manager opens; the runtime's
 * sockets (its news socket {@code network.sock}, its engine channel) under {@code home/.slipway/run}. Root only (the manager
 * changes the emulator's account), in a root-owned directory the emulator's account can enter.
 */
public final class EngineVm implements AutoCloseable {
    public static final String EMULATOR_USER = "nobody";
    public final Path root;
    public final Path home;
    public final Path run;
    private final VmManager manager;
    private final Path vmDir;

    public EngineVm(Path kernel, Path initrd, String cmdline, int memoryMb, int cpus) throws IOException {
        Path base = Files.createDirectories(Path.of("/var/lib/slipway-engine-test-roots"));
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        root = Files.createTempDirectory(base, "engine");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        home = Files.createDirectories(root.resolve("home"));
        run = Files.createDirectories(home.resolve(".slipway/run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
        vmDir = root.resolve("vm");
        var settings = new VmManager.Settings(vmDir, Optional.of(kernel), Optional.of(initrd), cmdline, memoryMb, cpus,
                64L << 20, "auto", ".slipway/run/vm.sock", "root", Optional.empty(), List.of(), Optional.of(EMULATOR_USER));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(home); }
        };
        manager = new VmManager(settings, new QemuBackend(GuestImage.EMULATOR, Path.of("/dev/kvm"), true), accounts, p -> { });
    }

    /** Creates and starts the VM as {@code vm.create} and {@code vm.start} do. */
    public Map<String, Object> boot() throws Exception {
        Caller me = new Caller(System.getProperty("user.name"), System.getProperty("user.name"));
        manager.create(me);
        return manager.start(me);
    }

    /** A new connection to the engine port, as {@code vm.attach-engine} passes it; the caller closes it. */
    public int attachEngine() throws Exception {
        return manager.attachEngine(new Caller(System.getProperty("user.name"), System.getProperty("user.name")));
    }

    /** A new connection to the network card, as {@code vm.attach-network} passes it; the caller closes it. */
    public int attachNetwork() throws Exception {
        return manager.attachNetwork(new Caller(System.getProperty("user.name"), System.getProperty("user.name")));
    }

    public Map<String, Object> status() throws Exception {
        return manager.status();
    }

    public String console() throws IOException {
        Path c = vmDir.resolve(VmManager.CONSOLE_LOG);
        return Files.exists(c) ? Files.readString(c, StandardCharsets.ISO_8859_1) : "";
    }

    public String emulatorLog() throws IOException {
        Path c = vmDir.resolve(VmManager.EMULATOR_LOG);
        return Files.exists(c) ? Files.readString(c, StandardCharsets.ISO_8859_1) : "";
    }

    /** Waits until the console shows {@code marker}, the VM ends or {@code timeout} passes. */
    public boolean awaitConsole(String marker, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (console().contains(marker)) {
                return true;
            }
            if (!"running".equals(manager.status().get("state"))) {
                return console().contains(marker);
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        return false;
    }

    @Override
    public void close() throws Exception {
        try {
            manager.stop();
            manager.close();
        } finally {
            try (var files = Files.walk(root)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}

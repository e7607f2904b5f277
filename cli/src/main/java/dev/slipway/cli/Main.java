package dev.slipway.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import dev.slipway.launcher.BundleRepository;
import dev.slipway.launcher.LaunchOptions;

/** {@code slipway COMMAND ...}: the runtime's life cycle here; every other command is served by the runtime. */
public final class Main {

    static final int NOT_RUNNING = 3;

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final Map<String, String> env;
    private final Path dist;

    /** @param in what {@code shell} sends to the runtime's shell */
    Main(InputStream in, PrintStream out, PrintStream err, Map<String, String> env, Path dist) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.env = env;
        this.dist = dist;
    }

    public static void main(String[] args) {
        String distProperty = System.getProperty("slipway.dist");
        Path dist = distProperty != null ? Path.of(distProperty) : defaultDist();
        int code = new Main(System.in, System.out, System.err, System.getenv(), dist).run(List.of(args));
        if (System.getenv("SLIPWAY_TRACE_UP") != null) {
            System.err.println("slipway: up trace: exiting at epoch ms " + System.currentTimeMillis());
        }
        System.out.flush();
        System.exit(code);
    }

    private static Path defaultDist() {
        try {
            return Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent().getParent();
        } catch (URISyntaxException e) {
            return Path.of(".");
        }
    }

    int run(List<String> args) {
        if (args.isEmpty() || args.get(0).equals("help") || args.get(0).equals("--help") || args.get(0).equals("-h")) {
            return help();
        }
        String command = args.get(0);
        List<String> rest = args.subList(1, args.size());
        if (command.equals("--version") || command.equals("version")) {
            out.println("slipway " + version());
            return 0;
        }
        try {
            return switch (command) {
                case "up" -> up(rest);
                case "down" -> down();
                case "status" -> status(rest);
                case "bundles" -> bundles();
                case "deploy" -> deploy(rest);
                case "shell" -> shell();
                default -> forward(command, rest);
            };
        } catch (ControlClient.NotRunningException e) {
            err.println("slipway: Slipway is not running (" + e.getMessage() + "); start it with: slipway up -d"
                    + Optional.ofNullable(ALWAYS_THERE.get(command)).map(what -> " (" + command + " " + what.whenNotRunning() + ")").orElse(""));
            return NOT_RUNNING;
        } catch (IllegalArgumentException e) {
            err.println("slipway: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("slipway: " + command + ": " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }

    /** The version the CLI's jar was built as ({@code Implementation-Version}), or "unknown" outside a jar. */
    static String version() {
        String version = Main.class.getPackage().getImplementationVersion();
        return version != null ? version : "unknown (not run from a built jar)";
    }

    /**
     * Commands served by the runtime's bundles that the CLI always knows: when the running runtime
     * does not serve one, the answer says what is missing instead of "unknown command".
     *
     * @param whenNotServed what to do when the runtime runs but no bundle serves the command
     * @param whenNotRunning what the command needs when no runtime runs
     */
    record KnownCommand(String whenNotServed, String whenNotRunning) {}

    static final Map<String, KnownCommand> ALWAYS_THERE = Map.of(
            "docker-env", new KnownCommand(
                    "no docker engine is configured: write guest=GUESTIP:PORT (the engine's TCP endpoint in the guest) to "
                            + "$SLIPWAY_HOME/conf/dev.slipway.docker.cfg, then run slipway docker-env again",
                    "needs a running runtime with a docker engine configured"),
            "vm", new KnownCommand(
                    "no helper client is active in this runtime (bundle dev.slipway.helperclient; slipway status shows why); "
                            + "the VM is run by the privileged helper: sudo slipway helper install",
                    "needs a running runtime and the privileged helper (sudo slipway helper install)"),
            "helper", new KnownCommand(
                    "no helper client is active in this runtime (bundle dev.slipway.helperclient; slipway status shows why)",
                    "is served without a runtime only by a distribution with " + Main.ONE_SHOT_BNDRUN + ", which this one lacks"));

    private LaunchOptions options(List<String> launcherArgs) {
        return LaunchOptions.parse(launcherArgs.toArray(String[]::new), env, dist);
    }

    private ControlClient client(Duration timeout) {
        return new ControlClient(options(List.of()).runtimeDir().resolve("control.sock"), timeout);
    }

    private int help() {
        out.println("""
                usage: slipway COMMAND [ARGS]

                  up [-d] [--OPTION VALUE]...   run the runtime (in the foreground, or -d in the background once ready);
                                                options become framework properties slipway.OPTION
                  down                          stop the runtime
                  status [--json]               readiness, bundles, components and every bundle's status section
                  bundles                       the installed bundles and their states
                  deploy FILE.jar               hot-deploy a bundle (a newer version replaces the running one)
                  shell                         attach a Gogo shell to the running runtime
                  docker-env                    the DOCKER_HOST line for the guest's engine
                  vm start|stop|status|logs     the VM, run by the privileged helper
                  helper status|install|uninstall  the privileged helper (install and uninstall as root)
                  --version                     the version of this Slipway
                """);
        ControlClient client = client(Duration.ofSeconds(5));
        try {
            JsonElement commands = client.get("/commands").body();
            if (commands.isJsonArray() && !commands.getAsJsonArray().isEmpty()) {
                out.println("served by the running runtime:");
                for (JsonElement command : commands.getAsJsonArray()) {
                    JsonObject c = command.getAsJsonObject();
                    out.printf("  %-30s%s%n", c.get("name").getAsString(), c.get("summary").getAsString());
                }
            }
        } catch (IOException e) {
            out.println("(more commands are listed while the runtime runs)");
        } finally {
            client.close();
        }
        return 0;
    }

    private int up(List<String> args) throws IOException, InterruptedException {
        boolean detach = args.contains("-d") || args.contains("--detach");
        List<String> launcherArgs = new ArrayList<>(args);
        launcherArgs.removeAll(List.of("-d", "--detach"));
        LaunchOptions options = options(launcherArgs);
        ControlClient client = client(Duration.ofSeconds(5));
        try {
            if (client.accepting()) {
                JsonObject status = client.status();
                err.println("slipway: Slipway is already running (pid " + status.get("pid").getAsLong() + "); stop it with ./slipway down");
                return 1;
            }
        } catch (ControlClient.NotRunningException e) {
            // it stopped in between: nothing runs
        } finally {
            client.close();
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(runtimeJvmOptions());
        command.addAll(classDataSharing(options));
        command.add("-cp");
        command.add(dist.resolve("lib").toString() + "/*");
        command.add("dev.slipway.launcher.Launcher");
        command.add("--dist");
        command.add(dist.toString());
        command.addAll(launcherArgs);
        ProcessBuilder builder = new ProcessBuilder(command);
        if (!detach) {
            return builder.inheritIO().start().waitFor();
        }
        Files.createDirectories(options.runtimeDir());
        Path log = options.runtimeDir().resolve("slipway.log");
        long started = System.nanoTime();
        if (env.containsKey("SLIPWAY_TRACE_UP")) {
            err.println("slipway: up trace: starting the runtime at epoch ms " + System.currentTimeMillis());
        }
        return waitUntilReady(startDetached(command, log), log, started);
    }

    private static final Path SHELL = Path.of("/bin/sh");

    /**
     * Starts the runtime in the background with its output in {@code log}. Where there is a POSIX
     * shell, the runtime is started by one that exits at once, so the runtime is no child of this
     * JVM: a JVM with a thread waiting for a child (the process reaper) takes 300 ms longer to exit.
     */
    private static ProcessHandle startDetached(List<String> command, Path log) throws IOException, InterruptedException {
        if (!Files.isExecutable(SHELL)) {
            return new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start().toHandle();
        }
        List<String> wrapper = new ArrayList<>(List.of(SHELL.toString(), "-c",
                "log=$1; shift; \"$@\" </dev/null >\"$log\" 2>&1 & echo $!", "slipway-up", log.toString()));
        wrapper.addAll(command);
        Process shell = new ProcessBuilder(wrapper).redirectErrorStream(true).start();
        String output = new String(shell.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        int code = shell.waitFor();
        long pid;
        try {
            pid = Long.parseLong(output);
        } catch (NumberFormatException e) {
            throw new IOException("could not start the runtime (" + SHELL + " exited with " + code + ": " + output + ")");
        }
        return ProcessHandle.of(pid).orElse(null); // null: it failed at once, reported like any early exit
    }

    /**
     * Class data sharing for the runtime's JVM: the first start writes an archive of the classes it
     * loaded from the JDK and the class path when it exits; later starts map it instead of loading
     * and verifying those classes again. One archive per JDK version in the Slipway home, which only
     * one runtime uses at a time (the runtime's lock); a JDK that cannot use it simply ignores it.
     */
    private List<String> classDataSharing(LaunchOptions options) throws IOException {
        Path cache = options.home().resolve("cache");
        Files.createDirectories(cache);
        String prefix = "runtime-" + Runtime.version().toString().replaceAll("[^A-Za-z0-9.+-]", "_") + "-";
        Path archive = cache.resolve(prefix + classPathStamp() + ".jsa");
        if (Files.isRegularFile(archive)) {
            return List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        }
        try (var old = Files.newDirectoryStream(cache, prefix + "*.jsa")) {
            for (Path stale : old) {
                Files.deleteIfExists(stale); // made for jars that have changed since: the JVM would ignore it
            }
        }
        return List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off", "-Xlog:cds+dynamic=off");
    }

    /**
     * Names, sizes and times of the class path's and the bundles' jars: the archive holds classes
     * of both (bundles are installed by reference, so their classes have a stable source), and the
     * JVM ignores archived classes whose jar has changed.
     */
    private String classPathStamp() throws IOException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        List<Path> sorted = new ArrayList<>();
        for (String folder : List.of("lib", "bundles")) {
            try (var jars = Files.newDirectoryStream(dist.resolve(folder), "*.jar")) {
                jars.forEach(sorted::add);
            }
        }
        sorted.sort(null);
        for (Path jar : sorted) {
            crc.update((jar + ":" + Files.size(jar) + ":" + Files.getLastModifiedTime(jar).toMillis() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        return Long.toHexString(crc.getValue());
    }

    private List<String> runtimeJvmOptions() {
        String configured = env.get("SLIPWAY_JAVA_OPTS");
        if (configured != null && !configured.isBlank()) {
            return Arrays.asList(configured.trim().split("\\s+"));
        }
        // C1 only, one compiler thread: on two cores the C2 compiler otherwise takes about a third of
        // the start's CPU, while the data paths spend their time in the kernel, so throughput stays
        // the same (bench/runtime-net.sh measures both). SLIPWAY_JAVA_OPTS replaces these.
        // A small initial heap keeps the resident size flat under connection churn (bench/net-scale.sh's
        // million connections ran with these bounds); the runtime needs ~20 MB of heap after start.
        // No performance-data file: its sampler wakes the JVM every 50 ms, idle or not (jcmd PID still
        // works; jps and jstat no longer list the runtime). No timed safepoints and no timed monitor
        // deflation: on Java 17 the VM thread wakes every second and the deflation thread four times a
        // second on an idle runtime (about half of its idle CPU); both still run when there is work.
        return List.of("-XX:+UseSerialGC", "-Xss512k", "-Xms32m", "-Xmx256m", "-XX:MaxMetaspaceSize=128m", "-Xshare:auto",
                "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:-UsePerfData",
                "-XX:+UnlockDiagnosticVMOptions", "-XX:GuaranteedSafepointInterval=0", "-XX:AsyncDeflationInterval=0");
    }

    /**
     * Waits for the launcher's "started" line in the log (all bundles started; nothing to ask the
     * runtime before that, and asking would only take CPU from its start), then asks the control
     * API until it says ready. OkHttp is loaded meanwhile on another thread.
     */
    /** With SLIPWAY_TRACE_UP set, up -d says when it saw each step (for start-time work). */
    private void trace(String step, long started) {
        if (env.containsKey("SLIPWAY_TRACE_UP")) {
            err.println("slipway: up trace " + (System.nanoTime() - started) / 1_000_000 + " ms " + step);
        }
    }

    /** How long up -d waits quietly for the guest namespace's address before it says what it waits for. */
    private static final Duration GUEST_WAIT_NOTICE = Duration.ofSeconds(3);

    /** What the launcher prints once every bundle of the run was started (see dev.slipway.launcher.Launcher). */
    private static final String STARTED_LINE = " started in ";

    private static boolean logContains(Path log, String text) {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    private int waitUntilReady(ProcessHandle process, Path log, long started) throws IOException, InterruptedException {
        ControlClient client = client(Duration.ofSeconds(5));
        Thread warmUp = new Thread(client::warmUp, "slipway-cli-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            JsonObject last = null;
            boolean bundlesStarted = false;
            boolean saidWaitingForGuest = false;
            while (System.nanoTime() < deadline) {
                if (process == null || !process.isAlive()) {
                    err.println("slipway: the runtime exited before it was ready; its log (" + log + "):");
                    err.println(tail(log, 30));
                    return 1;
                }
                if (!bundlesStarted) {
                    bundlesStarted = logContains(log, STARTED_LINE);
                    if (!bundlesStarted) {
                        Thread.sleep(10);
                        continue;
                    }
                    trace("bundles started", started);
                }
                try {
                    last = client.status();
                    trace("status answered, ready " + last.get("ready"), started);
                    if (last.get("ready").getAsBoolean()) {
                        JsonObject guest = last.has("guest") && last.get("guest").isJsonObject() ? last.getAsJsonObject("guest") : null;
                        String guestState = guest == null ? "" : guest.get("state").getAsString();
                        if (guestState.equals("starting")) {
                            if (!saidWaitingForGuest && System.nanoTime() - started > GUEST_WAIT_NOTICE.toNanos()) {
                                err.println("slipway: the runtime is ready; waiting for the guest namespace '"
                                        + guest.get("namespace").getAsString() + "' to get its address (DHCP)...");
                                saidWaitingForGuest = true;
                            }
                            Thread.sleep(20);
                            continue;
                        }
                        long ms = (System.nanoTime() - started) / 1_000_000;
                        String guestNote = guest == null ? ""
                                : guest.get("ready").getAsBoolean() ? "; guest namespace " + guest.get("namespace").getAsString()
                                        + " has " + guest.get("address").getAsString()
                                : "";
                        out.println("Slipway is up (pid " + process.pid() + ", ready in " + ms + " ms" + guestNote + "); log " + log);
                        if (guestState.startsWith("failed")) {
                            err.println("slipway: the guest namespace '" + guest.get("namespace").getAsString() + "' is not there: "
                                    + guestState + " (VMs still connect over the runtime's sockets)");
                        }
                        trace("printed at epoch ms " + System.currentTimeMillis(), started);
                        return 0;
                    }
                } catch (ControlClient.NotRunningException e) {
                    trace("control socket not answering yet", started);
                }
                Thread.sleep(20);
            }
            err.println("slipway: the runtime (pid " + process.pid() + ") did not become ready within 60 s; it keeps running. "
                    + "What is not ready:");
            if (last != null) {
                printProblems(last, err);
            } else {
                err.println("  the control socket never answered; the log (" + log + ") ends with:");
                err.println(tail(log, 30));
            }
            return 1;
        } finally {
            client.close();
        }
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join(System.lineSeparator(), all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    private int down() throws IOException, InterruptedException {
        LaunchOptions options = options(List.of());
        Path pidFile = options.runtimeDir().resolve("slipway.pid");
        ControlClient client = client(Duration.ofSeconds(10));
        long pid;
        try {
            pid = client.status().get("pid").getAsLong();
            client.post("/shutdown", Map.of());
        } catch (ControlClient.NotRunningException e) {
            Optional<ProcessHandle> stale = readPid(pidFile).flatMap(ProcessHandle::of);
            if (stale.isPresent() && stale.get().isAlive()) {
                err.println("slipway: the runtime (pid " + stale.get().pid() + ") does not answer on its control socket; stopping it");
                stale.get().destroy();
                return awaitExit(stale.get()) ? 0 : 1;
            }
            cleanStale(options);
            out.println("Slipway is not running");
            return 0;
        } finally {
            client.close();
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid);
        if (process.isPresent() && !awaitExit(process.get())) {
            err.println("slipway: the runtime (pid " + pid + ") did not stop within 30 s");
            return 1;
        }
        out.println("Slipway stopped");
        return 0;
    }

    private static boolean awaitExit(ProcessHandle process) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return !process.isAlive();
    }

    private void cleanStale(LaunchOptions options) throws IOException {
        for (String name : List.of("slipway.pid", "control.sock", "shell.sock", "vm.sock", "network.sock")) {
            Path path = options.runtimeDir().resolve(name);
            if (Files.deleteIfExists(path)) {
                out.println("slipway: removed stale " + path + " of a runtime that is no longer running");
            }
        }
    }

    private static Optional<Long> readPid(Path pidFile) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private int status(List<String> args) throws IOException {
        boolean json = args.contains("--json");
        ControlClient client = client(Duration.ofSeconds(10));
        JsonObject status;
        try {
            status = client.status();
        } catch (ControlClient.NotRunningException e) {
            if (json) {
                out.println("{\"ready\":false,\"running\":false}");
            } else {
                out.println("Slipway is not running");
            }
            return NOT_RUNNING;
        } finally {
            client.close();
        }
        if (json) {
            out.println(new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(status));
            return 0;
        }
        int active = 0;
        int other = 0;
        int total = 0;
        for (JsonElement bundle : status.getAsJsonArray("bundles")) {
            JsonObject b = bundle.getAsJsonObject();
            total++;
            if (b.has("otherPlatform")) {
                other++;
            } else if ("ACTIVE".equals(b.get("state").getAsString())) {
                active++;
            }
        }
        boolean ready = status.get("ready").getAsBoolean();
        out.printf("Slipway is %s (pid %d, up %s): %d bundles, %d active, %d for other platforms%n",
                ready ? "ready" : "NOT ready", status.get("pid").getAsLong(),
                Duration.ofMillis(status.get("uptimeMs").getAsLong()).toString().substring(2).toLowerCase(), total, active, other);
        printProblems(status, out);
        for (String key : status.keySet()) {
            if (!List.of("ready", "uptimeMs", "pid", "java", "memory", "bundles", "components").contains(key)) {
                out.println(key + ": " + status.get(key));
            }
        }
        return ready ? 0 : 1;
    }

    private static void printProblems(JsonObject status, PrintStream out) {
        for (JsonElement bundle : status.getAsJsonArray("bundles")) {
            JsonObject b = bundle.getAsJsonObject();
            String state = b.get("state").getAsString();
            if (!b.has("otherPlatform") && !"ACTIVE".equals(state) && !b.has("fragment")) {
                out.println("  bundle " + b.get("symbolicName").getAsString() + " " + b.get("version").getAsString() + " is " + state
                        + (b.has("missing") ? ", missing " + b.get("missing") : ""));
            }
        }
        for (JsonElement component : status.getAsJsonArray("components")) {
            JsonObject c = component.getAsJsonObject();
            String state = c.get("state").getAsString();
            if (state.contains("UNSATISFIED_REFERENCE") || state.contains("FAILED")) {
                out.println("  component " + c.get("name").getAsString() + " is " + state
                        + (c.has("unsatisfiedReferences") ? ", waiting for " + c.get("unsatisfiedReferences") : "")
                        + (c.has("failure") ? ": " + c.get("failure").getAsString() : ""));
            }
        }
    }

    private int bundles() throws IOException {
        ControlClient client = client(Duration.ofSeconds(10));
        try {
            JsonObject status = client.status();
            out.printf("%4s  %-11s  %-22s  %s%n", "ID", "STATE", "VERSION", "SYMBOLIC NAME");
            for (JsonElement bundle : status.getAsJsonArray("bundles")) {
                JsonObject b = bundle.getAsJsonObject();
                String state = b.has("otherPlatform") ? "OTHER-OS" : b.get("state").getAsString();
                out.printf("%4d  %-11s  %-22s  %s%n", b.get("id").getAsLong(), state, b.get("version").getAsString(),
                        b.get("symbolicName").getAsString());
            }
            return 0;
        } finally {
            client.close();
        }
    }

    private int deploy(List<String> args) throws IOException, InterruptedException {
        if (args.size() != 1) {
            throw new IllegalArgumentException("usage: slipway deploy FILE.jar");
        }
        Path jar = Path.of(args.get(0)).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            err.println("slipway: " + jar + " is not a file; nothing was deployed");
            return 1;
        }
        Optional<BundleRepository.Entry> identity;
        try {
            identity = BundleRepository.identify(jar);
        } catch (IOException | IllegalArgumentException e) {
            err.println("slipway: " + jar + " is not a jar file (" + e.getMessage() + "); nothing was deployed");
            return 1;
        }
        if (identity.isEmpty()) {
            err.println("slipway: " + jar + " is not an OSGi bundle (its manifest has no Bundle-SymbolicName with "
                    + "Bundle-ManifestVersion 2); nothing was deployed");
            return 1;
        }
        BundleRepository.Entry bundle = identity.get();
        LaunchOptions options = options(List.of());
        Path deployDir = options.home().resolve("deploy");
        Path staging = options.home().resolve("staging");
        Files.createDirectories(deployDir);
        Files.createDirectories(staging);
        String fileName = bundle.symbolicName() + "-" + bundle.version() + ".jar";
        Path staged = staging.resolve(fileName);
        Files.copy(jar, staged, StandardCopyOption.REPLACE_EXISTING);
        // fileinstall must never see a half-written jar: it appears in deploy/ in one step
        Files.move(staged, deployDir.resolve(fileName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        out.println("deployed " + bundle.symbolicName() + " " + bundle.version() + " to " + deployDir);
        return awaitDeployed(bundle);
    }

    private int awaitDeployed(BundleRepository.Entry bundle) throws IOException, InterruptedException {
        ControlClient client = client(Duration.ofSeconds(5));
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String state = null;
            while (System.nanoTime() < deadline) {
                state = null;
                for (JsonElement element : client.status().getAsJsonArray("bundles")) {
                    JsonObject b = element.getAsJsonObject();
                    if (bundle.symbolicName().equals(b.get("symbolicName").getAsString())
                            && bundle.version().toString().equals(b.get("version").getAsString())) {
                        state = b.get("state").getAsString();
                    }
                }
                if ("ACTIVE".equals(state)) {
                    out.println(bundle.symbolicName() + " " + bundle.version() + " is ACTIVE");
                    return 0;
                }
                Thread.sleep(100);
            }
            err.println("slipway: " + bundle.symbolicName() + " " + bundle.version() + " is " + (state == null ? "not installed" : state)
                    + " after 30 s; see ./slipway status");
            return 1;
        } catch (ControlClient.NotRunningException e) {
            out.println("Slipway is not running; the bundle starts with the runtime");
            return 0;
        } finally {
            client.close();
        }
    }

    private int shell() throws IOException, InterruptedException {
        Path socket = options(List.of()).runtimeDir().resolve("shell.sock");
        if (!Files.exists(socket)) {
            throw new ControlClient.NotRunningException("no shell socket at " + socket);
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            Thread input = new Thread(() -> pump(in, channel), "slipway-shell-input");
            input.setDaemon(true);
            input.start();
            ByteBuffer buffer = ByteBuffer.allocate(8192);
            while (channel.read(buffer) >= 0) {
                out.write(buffer.array(), 0, buffer.position());
                out.flush();
                buffer.clear();
            }
        }
        return 0;
    }

    private static void pump(InputStream in, SocketChannel channel) {
        byte[] bytes = new byte[8192];
        try {
            for (int n; (n = in.read(bytes)) >= 0; ) {
                ByteBuffer buffer = ByteBuffer.wrap(bytes, 0, n);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
            channel.shutdownOutput();
        } catch (IOException e) {
            // the session ended
        }
    }

    /**
     * Commands that work with no runtime running: the CLI serves them itself in a one-shot run of
     * the bundles that serve them ({@code conf/install.bndrun}). {@code helper} is the administrator's:
     * {@code sudo slipway helper install} on a machine where no runtime runs.
     */
    static final List<String> ONE_SHOT_COMMANDS = List.of("helper");
    static final String ONE_SHOT_BNDRUN = "conf/install.bndrun";

    private int forward(String command, List<String> args) throws IOException, InterruptedException {
        ControlClient client = client(Duration.ofMinutes(10));
        try {
            ControlClient.Answer answer;
            try {
                answer = client.command(command, args);
            } catch (ControlClient.NotRunningException e) {
                if (ONE_SHOT_COMMANDS.contains(command) && Files.isRegularFile(dist.resolve(ONE_SHOT_BNDRUN))) {
                    return oneShot(command, args);
                }
                throw e;
            }
            if (answer.status() == 404) {
                KnownCommand known = ALWAYS_THERE.get(command);
                if (known != null) {
                    err.println("slipway: " + command + ": " + known.whenNotServed());
                    return 1;
                }
                err.println("slipway: unknown command '" + command + "' (see slipway help)");
                return 2;
            }
            JsonObject body = answer.body().getAsJsonObject();
            if (answer.status() != 200) {
                err.println("slipway: " + command + ": " + body.get("error").getAsString());
                return 1;
            }
            write(out, body.get("out").getAsString());
            write(err, body.get("err").getAsString());
            return body.get("exitCode").getAsInt();
        } finally {
            client.close();
        }
    }

    /**
     * Boots the launcher with {@link #ONE_SHOT_BNDRUN} in a home and runtime dir of its own (made
     * for this run and removed after it), runs {@code command} there and returns its exit code. The
     * user who ran sudo ({@code SUDO_USER}) is passed on as the installing user.
     */
    private int oneShot(String command, List<String> args) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("slipway-" + command + "-");
        try {
            List<String> launch = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", dist.resolve("lib") + "/*",
                    "dev.slipway.launcher.Launcher", "--dist", dist.toString(), "--bndrun", dist.resolve(ONE_SHOT_BNDRUN).toString(),
                    "--name", command, "--no-watch", "--home", work.resolve("home").toString(),
                    "--runtime-dir", work.resolve("run").toString()));
            String sudoUser = env.get("SUDO_USER");
            if (sudoUser != null && !sudoUser.isBlank()) {
                launch.addAll(List.of("--installing-user", sudoUser));
            }
            launch.add("--");
            launch.add(command);
            launch.addAll(args);
            Process process = new ProcessBuilder(launch).inheritIO().start();
            return process.waitFor();
        } finally {
            try (var files = Files.walk(work)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void write(OutputStream stream, String text) throws IOException {
        if (!text.isEmpty()) {
            stream.write(text.getBytes(StandardCharsets.UTF_8));
            if (!text.endsWith("\n")) {
                stream.write('\n');
            }
            stream.flush();
        }
    }
}

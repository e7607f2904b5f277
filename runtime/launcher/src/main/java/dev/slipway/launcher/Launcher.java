package dev.slipway.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.jar.JarFile;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * Starts Slipway: an embedded Felix whose bundles are the {@code -runbundles} of a bndrun file
 * (cnf/slipway.bndrun for the runtime, cnf/helper.bndrun for the privileged helper), taken from
 * the distribution's {@code bundles/} folder. fileinstall watches {@code deploy/} (bundles and
 * configuration) and {@code conf/} (configuration) under the Slipway home.
 *
 * <p>Options: {@code --home DIR}, {@code --dist DIR}, {@code --bndrun FILE},
 * {@code --runtime-dir DIR}; any other {@code --key value} (or {@code --flag}) becomes the
 * framework property {@code slipway.key}. {@code -- NAME ARGS...} makes a one-shot run: the
 * command the bundles serve under {@code NAME} runs once, its output is printed, its exit code is
 * the launcher's, and the framework stops.
 */
public final class Launcher {

    /** How often fileinstall looks at deploy/ and conf/ unwoken: an hour (see where it is set). */
    static final String FILEINSTALL_POLL_MILLIS = "3600000";

    static final int EXIT_ALREADY_RUNNING = 3;
    static final int EXIT_USAGE = 2;

    private final PrintStream out;
    private final LaunchOptions options;

    Launcher(LaunchOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public static void main(String[] args) {
        JdkWarmUp.start();
        // Jetty sizes its queues' padding from this; unset, it asks the platform MBean server, which
        // costs the start ~50 ms. 64-byte cache lines / 4-byte compressed references (heaps < 32 GB).
        System.getProperties().putIfAbsent("org.eclipse.jetty.util.referencesPerCacheLine", "16");
        LaunchOptions options;
        try {
            options = LaunchOptions.parse(args, System.getenv(), defaultDist());
        } catch (IllegalArgumentException e) {
            System.err.println("slipway: " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        }
        try {
            LoggingConfiguration.apply(options.dist().resolve("conf").resolve(options.name() + ".logging.properties"),
                    System.getenv(LoggingConfiguration.ENVIRONMENT));
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("slipway: " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        }
        System.exit(new Launcher(options, System.out).run());
    }

    private static Path defaultDist() {
        try {
            Path jar = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.getParent().getParent();
        } catch (URISyntaxException | RuntimeException e) {
            return Path.of(".");
        }
    }

    int run() {
        long started = System.nanoTime();
        try {
            Files.createDirectories(options.runtimeDir());
            Files.createDirectories(options.home());
        } catch (IOException e) {
            System.err.println("slipway: cannot create " + options.runtimeDir() + ": " + e.getMessage());
            return 1;
        }
        Path lockFile = options.runtimeDir().resolve(options.name() + ".lock");
        try (FileChannel lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = tryLock(lockChannel);
            if (lock == null) {
                String pid = readPid();
                System.err.println("slipway: " + options.name() + " is already running"
                        + (pid == null ? "" : " (pid " + pid + ")") + "; runtime dir " + options.runtimeDir());
                return EXIT_ALREADY_RUNNING;
            }
            removeStaleFiles();
            Files.writeString(pidFile(), ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
            try {
                return runFramework(started);
            } finally {
                Files.deleteIfExists(pidFile());
                lock.release();
            }
        } catch (java.nio.file.NoSuchFileException e) {
            System.err.println("slipway: no such file: " + e.getMessage());
            return 1;
        } catch (IOException | BundleException e) {
            System.err.println("slipway: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    private Path pidFile() {
        return options.runtimeDir().resolve(options.name() + ".pid");
    }

    private String readPid() {
        try {
            return Files.readString(pidFile(), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            return null;
        }
    }

    /** We hold the lock, so a pid file or socket left in the runtime dir belongs to a killed run. */
    private void removeStaleFiles() throws IOException {
        if (Files.exists(pidFile())) {
            out.println("slipway: removing stale pid file of a runtime that is no longer running (pid " + readPid() + ")");
            Files.delete(pidFile());
        }
        for (String socket : List.of("control.sock", "shell.sock", "vm.sock", "network.sock", "vpnkit.sock")) {
            Path path = options.runtimeDir().resolve(socket);
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
                    && !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(path)) {
                out.println("slipway: removing stale socket " + path);
                Files.delete(path);
            }
        }
    }

    private int runFramework(long started) throws IOException, BundleException, InterruptedException {
        StartTrace trace = new StartTrace(Boolean.getBoolean("slipway.trace.start"), started, System.err);
        trace.mark("runtime dir locked");
        RunSpec spec = RunSpec.read(options.bndrun());
        BundleRepository repository = BundleRepository.scan(options.dist().resolve("bundles"),
                options.home().resolve("cache/" + options.name() + "-bundles.idx"));
        List<BundleRepository.Entry> entries = repository.resolve(spec);
        trace.mark("bundle set read");

        Map<String, String> config = frameworkProperties(spec);
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IOException("no OSGi framework on the class path"));
        Framework framework = factory.newFramework(config);
        framework.init();
        Thread hook = new Thread(() -> stopQuietly(framework), "slipway-shutdown-hook");
        Runtime.getRuntime().addShutdownHook(hook);
        trace.mark("framework initialised");
        List<Bundle> installed = new ArrayList<>();
        BundleMirror mirror = new BundleMirror(options.home().resolve("cache/" + options.name() + "-bundles"));
        for (BundleRepository.Entry entry : entries) {
            installed.add(framework.getBundleContext().installBundle("reference:" + mirror.mirror(entry.jar()).toUri()));
        }
        trace.mark("bundles installed");
        framework.start();
        trace.mark("framework started");
        // One resolve for the whole set: starting the bundles one by one would run the resolver
        // once per bundle, each time over everything the bundle depends on.
        framework.adapt(FrameworkWiring.class).resolveBundles(installed);
        trace.mark("bundles resolved");
        Map<String, org.osgi.framework.Version> waitingUpdates = options.watchDirectories()
                ? PendingUpdates.newestIn(options.home().resolve("deploy"), out) : Map.of();
        List<String> otherPlatforms = startAll(installed, waitingUpdates, trace);
        if (!options.command().isEmpty()) {
            try {
                return new OneShotCommand(framework.getBundleContext(), out, System.err).run(options.command());
            } finally {
                stopQuietly(framework);
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // already shutting down through the hook
                }
            }
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        out.println("slipway: " + options.name() + " started in " + ms + " ms with " + installed.size() + " bundles"
                + (otherPlatforms.isEmpty() ? "" : " (" + String.join(", ", otherPlatforms) + ": other platforms, not started)")
                + "; runtime dir " + options.runtimeDir());
        out.flush();
        framework.waitForStop(0);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down through the hook
        }
        out.println("slipway: " + options.name() + " stopped");
        return 0;
    }

    /**
     * Starts every bundle that is not a fragment, in the bndrun's order; returns those that belong
     * to another OS. A bundle with a newer version waiting in {@code deploy/} is not started: the
     * deploy bundle replaces it as soon as fileinstall installs the newer one, and starting it first
     * would only start, stop and hand over a version that is already outdated. A bundle the deploy
     * bundle replaced while this loop runs is uninstalled by then and skipped.
     */
    private List<String> startAll(List<Bundle> bundles, Map<String, org.osgi.framework.Version> waitingUpdates, StartTrace trace) {
        List<String> otherPlatforms = new ArrayList<>();
        for (Bundle bundle : bundles) {
            if (bundle.getHeaders("").get(Constants.FRAGMENT_HOST) != null) {
                continue;
            }
            org.osgi.framework.Version newer = waitingUpdates.get(bundle.getSymbolicName());
            if (newer != null && newer.compareTo(bundle.getVersion()) > 0) {
                out.println("slipway: " + bundle.getSymbolicName() + " " + newer + " waits in deploy/; "
                        + bundle.getVersion() + " is not started");
                continue;
            }
            if (bundle.getState() == Bundle.UNINSTALLED) {
                continue;
            }
            try {
                bundle.start();
                trace.mark(bundle.getSymbolicName());
            } catch (IllegalStateException e) {
                // uninstalled between the check and the start: replaced by a newer deployed version
                out.println("slipway: " + bundle.getSymbolicName() + " " + bundle.getVersion() + " was replaced while starting");
            } catch (BundleException e) {
                if (requiresOtherPlatform(e)) {
                    otherPlatforms.add(bundle.getSymbolicName());
                } else {
                    System.err.println("slipway: " + bundle.getSymbolicName() + " " + bundle.getVersion() + " did not start: " + e.getMessage());
                }
            }
        }
        return otherPlatforms;
    }

    private static boolean requiresOtherPlatform(BundleException e) {
        String message = String.valueOf(e.getMessage());
        return e.getType() == BundleException.RESOLVE_ERROR && message.contains("osgi.native");
    }

    private static void stopQuietly(Framework framework) {
        try {
            framework.stop();
            framework.waitForStop(15_000);
        } catch (BundleException | InterruptedException e) {
            System.err.println("slipway: stopping the framework: " + e.getMessage());
        }
    }

    Map<String, String> frameworkProperties(RunSpec spec) throws IOException {
        Map<String, String> config = new HashMap<>(spec.properties());
        Path home = options.home();
        config.put(Constants.FRAMEWORK_STORAGE, home.resolve("cache/" + options.name()).toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        List<String> systemPackages = new ArrayList<>(RunSpec.splitList(classPathExports()));
        systemPackages.addAll(spec.systemPackages());
        config.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, String.join(",", systemPackages));
        config.put("felix.cm.dir", home.resolve("config/" + options.name()).toString());
        config.putIfAbsent("felix.log.level", "1");
        if (options.watchDirectories()) {
            Path deploy = home.resolve("deploy");
            Path conf = home.resolve("conf");
            Files.createDirectories(deploy);
            Files.createDirectories(conf);
            config.put("felix.fileinstall.dir", deploy.toString());
            // fileinstall (3.7) learns of changes from the OS's file notifications (its NIO2 watcher; a scan then
            // looks only at the files the notifications named) but looks at them only when this interval
            // ends. The deploy bundle's FileInstallWaker wakes it on each change (or every 2 s where
            // notifications are unavailable), so the interval can be long and an idle runtime stays asleep.
            config.putIfAbsent("felix.fileinstall.poll", FILEINSTALL_POLL_MILLIS);
            config.putIfAbsent("felix.fileinstall.noInitialDelay", "true");
            // the deploy bundle starts what fileinstall installs, after it stopped the version it replaces
            config.putIfAbsent("felix.fileinstall.bundles.new.start", "false");
            config.putIfAbsent("felix.fileinstall.log.level", "2");
            // fileinstall would otherwise refresh every bundle it installed that has an optional import
            // whenever it installs another: a deployed networking bundle would restart at each deploy.
            // The deploy bundle refreshes what an update needs, with the state handed over.
            config.putIfAbsent("felix.fileinstall.optionalImportRefreshScope", "none");
            // fileinstall watches one directory from framework properties; a second watcher for conf/
            // is a factory configuration of fileinstall itself, which it reads from deploy/. It takes
            // nothing from the framework properties: without noInitialDelay it would sleep a whole
            // poll interval before its first look at conf/, and no wake-up ends that sleep.
            Files.writeString(deploy.resolve("org.apache.felix.fileinstall-conf.cfg"),
                    "felix.fileinstall.dir = " + conf.toString().replace("\\", "\\\\") + "\n"
                            + "felix.fileinstall.filter = .*\\\\.(cfg|config)\n"
                            + "felix.fileinstall.poll = " + FILEINSTALL_POLL_MILLIS + "\n"
                            + "felix.fileinstall.noInitialDelay = true\n", StandardCharsets.UTF_8);
        }
        config.put("slipway.home", home.toString());
        config.put("slipway.runtime.dir", options.runtimeDir().toString());
        config.put("slipway.dist", options.dist().toString());
        config.putAll(options.frameworkProperties());
        if (options.watchDirectories()) {
            // the runtime's VM socket; beside it network.sock, where the helper tells of a VM start (vm.start)
            config.putIfAbsent("slipway.vm-socket", options.runtimeDir().resolve("vm.sock").toString());
        }
        return config;
    }

    /**
     * Logging is part of the launcher: slf4j-api and its simple provider sit on the class path and
     * the system bundle exports the packages slf4j-api's own manifest exports, so every bundle's
     * {@code org.slf4j} import wires to one logger factory (no service-loader mediator needed).
     */
    public static String classPathExports() throws IOException {
        try {
            Path jar = Path.of(org.slf4j.LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (JarFile file = new JarFile(jar.toFile())) {
                String exports = file.getManifest().getMainAttributes().getValue("Export-Package");
                if (exports == null) {
                    throw new IOException(jar + " has no Export-Package header");
                }
                return exports;
            }
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate slf4j-api on the class path", e);
        }
    }

}

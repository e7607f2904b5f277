package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.Ownership;
import dev.slipway.platform.linux.natives.Accounts;
import dev.slipway.platform.linux.natives.FileDescriptors;
import dev.slipway.platform.linux.natives.Processes;
import dev.slipway.platform.linux.natives.UnixSockets;

/**
 * The one VM, {@value HelperSchema#VM_NAME}. Its state lives in a fixed directory of the helper
 * (disk, console log, emulator log, pid file, and its {@link VmRecord}: who made it, where its disk
 * is and which file that is). Every file is reached through directories opened without following
 * links ({@link TrustedDirectory}), and the disk by a descriptor checked against the record
 * ({@link DescriptorFiles}), so no client can redirect a write, a delete, a move or the emulator's
 * disk to another file. The member who made the VM, root and the installed user may change it;
 * every member may read its status.
 */
final class VmManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VmManager.class);

    static final String DISK = "slipway-vm.img";
    static final String CONSOLE_LOG = "console.log";
    static final String EMULATOR_LOG = "emulator.log";
    static final String PID_FILE = "emulator.pid";
    /**
     * The engine port's listener, which the emulator holds ({@code -chardev socket,server=on}): in a
     * directory of the helper's alone (0700), so only the helper connects, and hands the connection to
     * the runtime ({@code vm.attach-engine}) as often as a runtime comes back.
     */
    static final String ENGINE_DIR = "engine";
    static final String ENGINE_LISTENER = "engine.sock";
    /**
     * The network card's listener, which the emulator holds ({@code -netdev stream,server=on}): like
     * the engine's, in a directory of the helper's alone, handed to the runtime ({@code vm.attach-network}).
     */
    static final String NETWORK_DIR = "network";
    static final String NETWORK_LISTENER = "network.sock";

    /** Where the VM's files live and how it boots; all from the helper's install configuration. */
    record Settings(Path vmDir, Optional<Path> kernel, Optional<Path> initrd, String cmdline, int memoryMb, int cpus,
            long diskBytes, String accelerator, String userVmSocket, String group, Optional<String> installingUser,
            List<Path> diskDirectories, Optional<String> vmUser) {
        Settings {
            diskDirectories = List.copyOf(diskDirectories);
        }
    }

    /** The emulator's whole environment: nothing of the helper's. */
    static final Map<String, String> EMULATOR_ENVIRONMENT = QemuBackend.ENVIRONMENT;

    private final Settings settings;
    private final VmBackend backend;
    private final AccountDirectory accounts;
    private final Consumer<Path> betweenDestinationChecks;
    private final String helperUser = System.getProperty("user.name");
    private final DescriptorFiles files = new DescriptorFiles();
    private final Ownership ownership;
    private final DescriptorWalk walk = new DescriptorWalk();
    private final RuntimeSocket runtimeSocket;
    private final boolean helperIsRoot;

    private Running running;

    /**
     * A running VM: its process, when it ended (this helper's own child, reaped by its thread; or a VM
     * a previous helper left), since when and with which accelerator (when known).
     */
    private record Running(ProcessHandle process, CompletableFuture<?> exited, Instant started,
            VmBackend.Accelerator accelerator) {}

    /**
     * @param betweenDestinationChecks runs after {@code vm.move-disk}'s first check of the destination
     *        and before the re-check that the move relies on (tests swap directories for links there)
     */
    VmManager(Settings settings, VmBackend backend, AccountDirectory accounts, Consumer<Path> betweenDestinationChecks) {
        this(settings, backend, accounts, betweenDestinationChecks, () -> { });
    }

    /** @param betweenSocketCheckAndConnect runs after the runtime socket's check, before the connect (tests) */
    VmManager(Settings settings, VmBackend backend, AccountDirectory accounts, Consumer<Path> betweenDestinationChecks,
            Runnable betweenSocketCheckAndConnect) {
        this.settings = settings;
        this.backend = backend;
        this.accounts = accounts;
        this.betweenDestinationChecks = betweenDestinationChecks;
        this.ownership = new Ownership(settings.installingUser());
        this.runtimeSocket = new RuntimeSocket(betweenSocketCheckAndConnect);
        this.helperIsRoot = LinuxOnly.root();
    }

    // ------------------------------------------------------------------ operations

    synchronized Map<String, Object> create(Caller caller) throws HelperException {
        try (TrustedDirectory dir = stateDirectory(true)) {
            Optional<VmRecord> existing = record(dir);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("name", HelperSchema.VM_NAME);
            if (existing.isPresent()) {
                result.put("created", false);
                result.put("owner", existing.get().owner());
                result.put("disk", existing.get().diskDirectory().resolve(DISK).toString());
                return result;
            }
            boolean made = dir.entry(DISK).isEmpty();
            if (made) {
                try (DescriptorFiles.Opened disk = files.create(dir, DISK); FileChannel c = disk.channel(true)) {
                    // sparse: only the last byte is written
                    c.write(ByteBuffer.wrap(new byte[1]), settings.diskBytes() - 1);
                }
            }
            // a disk an earlier helper left in its own directory, without a record, is adopted as it is
            try (DescriptorFiles.Opened disk = files.open(dir, DISK, false)) {
                DescriptorFiles.Identity identity = disk.current();
                if (identity.links() != 1 || (identity.uid() != 0 && identity.uid() != helperUid())) {
                    throw new HelperException(HelperErrors.REFUSED, disk.where + " is not a disk the helper made");
                }
                writeRecord(dir, VmRecord.of(caller.user(), dir.path(), identity));
            }
            result.put("created", made);
            result.put("owner", caller.user());
            result.put("disk", dir.path().resolve(DISK).toString());
            result.put("sizeBytes", settings.diskBytes());
            return result;
        } catch (IOException e) {
            throw failed("creating the VM's disk", e);
        }
    }

    synchronized Map<String, Object> start(Caller caller) throws HelperException {
        requireMayChange(caller, "start it");
        LinuxOnly.require("the helper starts the VM");
        Optional<Running> alive = alive();
        if (alive.isPresent()) {
            Map<String, Object> result = status();
            result.put("started", false);
            return result;
        }
        Path kernel = settings.kernel().orElseThrow(() -> new HelperException(HelperErrors.UNAVAILABLE,
                "no guest kernel is configured (vm-kernel in the helper's install configuration)"));
        Path initrd = settings.initrd().orElseThrow(() -> new HelperException(HelperErrors.UNAVAILABLE,
                "no guest initramfs is configured (vm-initrd in the helper's install configuration)"));
        Path socket = userSocket(caller, VmBackend.NETWORK_SOCKET);
        VmBackend.Account account = emulatorAccount(caller);
        int callerUid = uidOf(caller.user());
        try (TrustedDirectory state = stateDirectory(false)) {
            Path diskDir = diskDirectory(state).orElseThrow(() -> new HelperException(HelperErrors.INVALID,
                    HelperSchema.VM_NAME + " does not exist; create it first (vm.create)"));
            VmBackend.Accelerator accelerator = backend.accelerator(settings.accelerator(), account);
            VmBackend.Launch launch = new VmBackend.Launch(HelperSchema.VM_NAME, kernel, initrd, settings.cmdline(),
                    settings.memoryMb(), settings.cpus(), accelerator, account,
                    engineSocketServed(socket.resolveSibling(VmBackend.ENGINE_SOCKET)));
            try {
                running = launch(state, diskDir, socket, caller, callerUid, launch);
            } catch (ExitedAtOnce e) {
                if (!settings.accelerator().equals("auto") || !accelerator.name().equals("kvm")) {
                    throw e.failure;
                }
                // auto must never fail: KVM that passed the probe but not a real start means TCG from now on
                backend.kvmFailedAtStart(account, e.summary);
                VmBackend.Launch tcg = new VmBackend.Launch(launch.name(), kernel, initrd, launch.cmdline(),
                        launch.memoryMb(), launch.cpus(), backend.accelerator("auto", account), account,
                        launch.engineChannel());
                try {
                    running = launch(state, diskDir, socket, caller, callerUid, tcg);
                } catch (ExitedAtOnce again) {
                    throw again.failure;
                }
            }
            Map<String, Object> result = status();
            result.put("started", true);
            return result;
        } catch (IOException e) {
            throw failed("preparing the VM's files", e);
        }
    }

    synchronized Map<String, Object> stop(Caller caller) throws HelperException {
        requireMayChange(caller, "stop it");
        return stop();
    }

    /** The emulator ended within moments of its start. */
    private static final class ExitedAtOnce extends Exception {
        private static final long serialVersionUID = 1L;
        final transient HelperException failure;
        final String summary;

        ExitedAtOnce(int exit, String log) {
            super(null, null, false, false);
            this.summary = "exit " + exit + QemuBackend.firstError(log.lines().toList());
            this.failure = new HelperException(HelperErrors.FAILED, "the emulator exited at once (exit " + exit + "): " + log);
        }
    }

    /**
     * One start of the emulator: the caller's runtime is connected first ({@code network.sock}, through
     * checked descriptors, served by the caller), then fresh logs and every descriptor the emulator
     * gets opened here (the logs through the checked state directory, the disk through checked
     * descriptors, the network card's listener in the helper's own directory), and the emulator
     * spawned with exactly those as its account. Closing the runtime's connection once the emulator
     * runs (or failed) is the news that it asks for the network card now.
     */
    private Running launch(TrustedDirectory state, Path diskDir, Path socket, Caller caller, int callerUid,
            VmBackend.Launch launch) throws HelperException, IOException, ExitedAtOnce {
        int news = runtimeSocket.connect(socket, trusted("root", caller.user()), callerUid);
        try {
            return spawn(state, diskDir, socket, caller, callerUid, launch);
        } finally {
            FileDescriptors.closeQuietly(news);
        }
    }

    private Running spawn(TrustedDirectory state, Path diskDir, Path socket, Caller caller, int callerUid,
            VmBackend.Launch launch) throws HelperException, IOException, ExitedAtOnce {
        prepareLog(state, CONSOLE_LOG);
        prepareLog(state, EMULATOR_LOG);
        deleteIfRegular(state, PID_FILE);
        Map<Integer, Integer> descriptors = new LinkedHashMap<>();
        List<Integer> opened = new ArrayList<>();
        int pid;
        try {
            int stateFd = walk.directory(settings.vmDir(), trusted("root", helperUser));
            opened.add(stateFd);
            int devNull = open(opened, FileDescriptors.AT_FDCWD, "/dev/null", FileDescriptors.O_RDONLY);
            int emulatorLog = open(opened, stateFd, EMULATOR_LOG, FileDescriptors.O_WRONLY | FileDescriptors.O_APPEND
                    | FileDescriptors.O_NOFOLLOW);
            int console = open(opened, stateFd, CONSOLE_LOG, FileDescriptors.O_WRONLY | FileDescriptors.O_APPEND
                    | FileDescriptors.O_NOFOLLOW);
            int[] disk = openDisk(diskDir, caller);
            opened.add(disk[0]);
            opened.add(disk[1]);
            int net = emulatorListener(NETWORK_DIR, NETWORK_LISTENER, "the network card");
            opened.add(net);
            descriptors.put(0, devNull);
            descriptors.put(1, emulatorLog);
            descriptors.put(2, emulatorLog);
            descriptors.put(VmBackend.NET_FD, net);
            descriptors.put(VmBackend.DISK_FD, disk[0]);
            descriptors.put(VmBackend.DISK_READ_FD, disk[1]);
            descriptors.put(VmBackend.CONSOLE_FD, console);
            if (launch.engineChannel()) {
                int listener = emulatorListener(ENGINE_DIR, ENGINE_LISTENER, "the engine channel");
                opened.add(listener);
                descriptors.put(VmBackend.ENGINE_FD, listener);
            }
            try {
                pid = Processes.spawn(backend.command(launch), EMULATOR_ENVIRONMENT, descriptors);
            } catch (IOException e) {
                throw new HelperException(HelperErrors.FAILED, "starting the emulator failed: " + e.getMessage());
            }
        } finally {
            // the emulator holds its own copies
            opened.forEach(FileDescriptors::closeQuietly);
        }
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow(() -> new HelperException(HelperErrors.FAILED,
                "the emulator (pid " + pid + ") vanished at once"));
        Instant processStart = process.info().startInstant().orElse(null);
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        Thread reaper = new Thread(() -> {
            try {
                exit.complete(Processes.awaitExit(pid));
            } catch (IOException | RuntimeException e) {
                exit.completeExceptionally(e);
            }
        }, "vm-emulator-" + pid);
        reaper.setDaemon(true);
        reaper.start();
        // a wrong option or an unusable accelerator ends QEMU at once; say so instead of "running"
        try {
            int code = exit.get(300, TimeUnit.MILLISECONDS);
            throw new ExitedAtOnce(code, tail(state, EMULATOR_LOG));
        } catch (java.util.concurrent.TimeoutException stillRunning) {
            // the usual case
        } catch (java.util.concurrent.ExecutionException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot watch the emulator: " + e.getCause());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new HelperException(HelperErrors.FAILED, "interrupted while starting the VM");
        }
        writeState(state, PID_FILE, pid + "\n" + (processStart == null ? "" : processStart.toEpochMilli()) + "\n"
                + launch.accelerator().name() + "\n" + launch.accelerator().reason() + "\n");
        if (launch.engineChannel()) {
            ringEngineSocket(socket.resolveSibling(VmBackend.ENGINE_SOCKET), caller, callerUid);
        }
        return new Running(process, exit, Instant.now(), launch.accelerator());
    }

    /**
     * A listener for a new emulator (its network card's, its engine port's): a fresh socket in a
     * directory {@code dirName} of the state directory, of the helper's own, that nobody else may enter.
     */
    private int emulatorListener(String dirName, String name, String what) throws HelperException, IOException {
        Path dir = settings.vmDir().resolve(dirName);
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // kept from an earlier start; checked below like a new one
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isDirectory() || !a.permissions().equals(PosixFilePermissions.fromString("rwx------"))
                || !(a.owner().getName().equals(helperUser) || a.owner().getName().equals("root"))) {
            throw new HelperException(HelperErrors.REFUSED, dir + " is not a directory of the helper's alone (0700)");
        }
        Files.deleteIfExists(dir.resolve(name));
        // bound through the checked directory's descriptor: no link on the way, and no limit from the path's length
        int dirfd = walk.directory(dir, trusted("root", helperUser));
        try {
            return UnixSockets.listen(Path.of("/proc/self/fd/" + dirfd, name), 1);
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot listen for " + what + " in " + dir + ": " + e.getMessage());
        } finally {
            FileDescriptors.closeQuietly(dirfd);
        }
    }

    /**
     * Tells the runtime that a VM with an engine channel started: a connection to its
     * {@code engine.sock}, checked like the VM socket (the caller's directories, a socket, no link,
     * served by the caller), closed at once. The runtime then asks for the channel with
     * {@code vm.attach-engine}. A runtime that does not answer only misses the news: the VM runs.
     */
    private void ringEngineSocket(Path engineSocket, Caller caller, int callerUid) {
        try {
            FileDescriptors.closeQuietly(runtimeSocket.connect(engineSocket, trusted("root", caller.user()), callerUid));
        } catch (HelperException e) {
            LOG.warn("the VM started, but its runtime was not told of the engine channel: {}",
                    e.getMessage());
        }
    }

    /**
     * {@code vm.attach-engine}: a new connection to the running VM's engine port for the caller, who
     * must be allowed to change the VM. The emulator serves one connection at a time, so the new one
     * carries the engine from the moment the caller's previous one (a runtime that ended) is gone.
     *
     * @return the connection's descriptor, for the caller to pass on and close
     */
    synchronized int attachEngine(Caller caller) throws HelperException {
        requireMayChange(caller, "attach to its engine");
        LinuxOnly.require("the helper attaches the engine channel");
        return attach(ENGINE_DIR, ENGINE_LISTENER, "the VM's engine channel",
                "the VM runs without an engine channel (its runtime served none at vm.start)");
    }

    /**
     * {@code vm.attach-network}: a new connection to the running VM's network card for the caller,
     * who must be allowed to change the VM (the connection carries every frame of the guest). The
     * emulator serves one connection at a time and listens again when it ends, so the new one
     * carries the guest's network from the moment the previous one (a runtime that ended) is gone.
     *
     * @return the connection's descriptor, for the caller to pass on and close
     */
    synchronized int attachNetwork(Caller caller) throws HelperException {
        requireMayChange(caller, "attach to its network card");
        LinuxOnly.require("the helper attaches the network card");
        return attach(NETWORK_DIR, NETWORK_LISTENER, "the VM's network card",
                "the VM runs without a network listener (it was started by an earlier helper); restart it");
    }

    /** A connection to a listener the running emulator holds in the helper's directory {@code dirName}. */
    private int attach(String dirName, String name, String what, String missing) throws HelperException {
        Optional<Running> alive = alive();
        if (alive.isEmpty()) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the VM is not running; start it first (vm.start)");
        }
        Path dir = settings.vmDir().resolve(dirName);
        Path listener = dir.resolve(name);
        if (!Files.exists(listener, LinkOption.NOFOLLOW_LINKS)) {
            throw new HelperException(HelperErrors.UNAVAILABLE, missing);
        }
        // the listener's directory and socket belong to the helper; its peer is the running emulator
        int helperUid = effectiveUid();
        String emulatorUser = alive.get().process().info().user().orElseThrow(() -> new HelperException(HelperErrors.FAILED,
                "cannot tell which account runs the emulator"));
        int emulatorUid = uidOf(emulatorUser);
        try {
            return runtimeSocket.connect(listener, trusted("root", helperUser), helperUid, Set.of(emulatorUid, helperUid));
        } catch (HelperException e) {
            throw new HelperException(e.code(), what + ": " + e.getMessage());
        }
    }

    private int open(List<Integer> opened, int dirfd, String name, int flags) throws HelperException {
        try {
            int fd = DescriptorWalk.openat(dirfd, name, flags);
            opened.add(fd);
            return fd;
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot open " + name + " for the emulator: " + e.getMessage());
        }
    }

    /**
     * Whom the emulator runs as: the install's {@code vm-user}, else the caller; never root. A
     * helper that is not root itself cannot switch, so the emulator keeps the helper's own account.
     */
    private VmBackend.Account emulatorAccount(Caller caller) throws HelperException {
        if (!helperIsRoot) {
            return new VmBackend.Account(helperUser, effectiveUid(), -1);
        }
        String name = settings.vmUser().orElse(caller.user());
        Accounts.Account a = account(name).orElseThrow(() -> new HelperException(HelperErrors.FAILED,
                "no account " + name + " to run the emulator as"));
        if (a.uid() == 0) {
            throw new HelperException(HelperErrors.REFUSED, "the emulator never runs as root: " + (settings.vmUser().isPresent()
                    ? "vm-user names root" : "the caller is root; set vm-user in the helper's install configuration"));
        }
        return new VmBackend.Account(a.name(), a.uid(), a.gid());
    }

    private int uidOf(String user) throws HelperException {
        Optional<Accounts.Account> a = account(user);
        if (a.isPresent()) {
            return a.get().uid();
        }
        // Caller.user is the numeric uid when the account has no name
        if (user.matches("[0-9]{1,10}")) {
            return Integer.parseInt(user);
        }
        throw new HelperException(HelperErrors.FAILED, "no account " + user);
    }

    private static Optional<Accounts.Account> account(String name) throws HelperException {
        try {
            return Accounts.lookup(name);
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "no account " + name + " (" + e.getMessage() + ")");
        }
    }

    private static int effectiveUid() throws HelperException {
        try {
            return Accounts.effectiveUid();
        } catch (IOException e) {
            throw failed("reading the helper's uid", e);
        }
    }

    synchronized Map<String, Object> stop() throws HelperException {
        Optional<Running> alive = alive();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("name", HelperSchema.VM_NAME);
        if (alive.isEmpty()) {
            result.put("stopped", false);
            result.put("state", exists() ? "stopped" : "absent");
            return result;
        }
        ProcessHandle p = alive.get().process();
        // SIGTERM: QEMU flushes the disk and exits; the guest gets no say in it
        p.destroy();
        boolean ended = waitForExit(alive.get().exited(), Duration.ofSeconds(10));
        if (!ended) {
            p.destroyForcibly();
            waitForExit(alive.get().exited(), Duration.ofSeconds(5));
        }
        running = null;
        result.put("stopped", true);
        result.put("forced", !ended);
        result.put("state", "stopped");
        return result;
    }

    synchronized Map<String, Object> destroy(Caller caller) throws HelperException {
        requireMayChange(caller, "destroy it");
        stop();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("name", HelperSchema.VM_NAME);
        try (TrustedDirectory state = stateDirectory(false)) {
            Optional<VmRecord> record = record(state);
            if (record.isPresent()) {
                try (TrustedDirectory dir = diskDirectory(record.get())) {
                    deleteIfTheDisk(dir, record.get()).ifPresent(left -> result.put("left", left));
                } catch (HelperException e) {
                    result.put("left", e.getMessage());
                }
            } else {
                // an earlier helper's disk, in the helper's own directory
                deleteIfRegular(state, DISK);
            }
            for (String f : new String[] {VmRecord.FILE, CONSOLE_LOG, EMULATOR_LOG, PID_FILE}) {
                deleteIfRegular(state, f);
            }
            result.put("destroyed", record.isPresent());
            return result;
        } catch (IOException e) {
            throw failed("deleting the VM", e);
        }
    }

    synchronized Map<String, Object> status() throws HelperException {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("name", HelperSchema.VM_NAME);
        Optional<Running> alive = alive();
        Optional<Path> diskDir;
        try (TrustedDirectory state = stateDirectory(false)) {
            diskDir = diskDirectory(state);
        } catch (HelperException e) {
            if (!Files.exists(settings.vmDir(), LinkOption.NOFOLLOW_LINKS)) {
                diskDir = Optional.empty();
            } else {
                throw e;
            }
        } catch (IOException e) {
            throw failed("reading the VM's state", e);
        }
        result.put("state", alive.isPresent() ? "running" : diskDir.isPresent() ? "stopped" : "absent");
        owner().ifPresent(o -> result.put("owner", o));
        diskDir.ifPresent(d -> result.put("disk", d.resolve(DISK).toString()));
        result.put("consoleLog", settings.vmDir().resolve(CONSOLE_LOG).toString());
        alive.ifPresent(r -> {
            result.put("pid", r.process().pid());
            if (r.accelerator() != null) {
                result.put("accelerator", r.accelerator().name());
                result.put("acceleratorReason", r.accelerator().reason());
            }
            if (r.started() != null) {
                result.put("uptimeSeconds", Duration.between(r.started(), Instant.now()).toSeconds());
            }
        });
        return result;
    }

    synchronized Map<String, Object> moveDisk(Path destination, Caller caller) throws HelperException {
        requireMayChange(caller, "move its disk");
        if (alive().isPresent()) {
            throw new HelperException(HelperErrors.CONFLICT, "stop the VM before moving its disk");
        }
        // first check: a clear refusal before anything is touched
        destinationDirectory(destination, caller).close();
        betweenDestinationChecks.accept(destination);
        try (TrustedDirectory state = stateDirectory(false)) {
            VmRecord record = record(state).orElseThrow(() -> new HelperException(HelperErrors.INVALID,
                    HelperSchema.VM_NAME + " has no disk to move; create it first (vm.create)"));
            Path from = record.diskDirectory();
            if (from.equals(destination)) {
                throw new HelperException(HelperErrors.INVALID, "the disk is already in " + destination);
            }
            // the re-check the move relies on: from here on only the opened descriptors are used
            try (TrustedDirectory source = diskDirectory(record);
                    TrustedDirectory target = destinationDirectory(destination, caller);
                    DescriptorFiles.Opened disk = files.open(source, DISK, false)) {
                record.requireTheDisk(disk, helperUid());
                if (target.entry(DISK).isPresent()) {
                    throw new HelperException(HelperErrors.CONFLICT, destination.resolve(DISK)
                            + " already exists; the helper overwrites nothing");
                }
                boolean linked = disk.linkInto(target, DISK);
                DescriptorFiles.Identity moved = linked ? disk.identity : copy(disk, target, record.size());
                writeRecord(state, record.movedTo(destination, moved));
                files.removeIfStill(source, DISK, disk.identity);
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("name", HelperSchema.VM_NAME);
                result.put("disk", destination.resolve(DISK).toString());
                result.put("copied", !linked);
                return result;
            }
        } catch (IOException e) {
            throw failed("moving the disk", e);
        }
    }

    @Override
    public synchronized void close() {
        // the VM outlives a restart of the helper: its pid file lets the next helper find it again
        running = null;
    }

    // ------------------------------------------------------------------ pieces

    /**
     * Copies exactly {@code size} bytes of the checked disk into a new file of the target directory
     * (another file system), then names it; the copy never reads past the recorded size.
     *
     * @return the new disk file
     */
    private DescriptorFiles.Identity copy(DescriptorFiles.Opened disk, TrustedDirectory target, long size)
            throws HelperException, IOException {
        String partial = "." + DISK + ".partial";
        try (DescriptorFiles.Opened copy = files.create(target, partial)) {
            try (FileChannel in = disk.channel(false); FileChannel out = copy.channel(true)) {
                long done = 0;
                while (done < size) {
                    long n = in.transferTo(done, size - done, out);
                    if (n <= 0) {
                        throw new HelperException(HelperErrors.REFUSED, disk.where + " ended at byte " + done
                                + " of the recorded " + size + "; it was changed outside the helper");
                    }
                    done += n;
                }
                out.force(true);
                if (!copy.linkInto(target, DISK)) {
                    throw new IOException("the copy of the disk is on another file system than its directory");
                }
                return copy.current();
            } finally {
                files.removeIfStill(target, partial, copy.identity);
            }
        }
    }

    /** The state directory, created root-owned 0755 when asked and missing, then opened and checked. */
    private TrustedDirectory stateDirectory(boolean create) throws HelperException {
        if (create && !Files.exists(settings.vmDir(), LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectories(settings.vmDir(), PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwxr-xr-x")));
            } catch (IOException e) {
                throw failed("creating " + settings.vmDir(), e);
            }
        }
        return TrustedDirectory.open(settings.vmDir(), trusted("root", helperUser));
    }

    /** Where the disk is: where the record says, the helper's own directory for an earlier helper's disk, or nowhere. */
    private Optional<Path> diskDirectory(TrustedDirectory state) throws IOException, HelperException {
        Optional<VmRecord> record = record(state);
        if (record.isPresent()) {
            return Optional.of(record.get().diskDirectory());
        }
        return state.entry(DISK).isPresent() ? Optional.of(state.path()) : Optional.empty();
    }

    private Optional<VmRecord> record(TrustedDirectory state) throws IOException, HelperException {
        Optional<String> text = readState(state, VmRecord.FILE);
        return text.isEmpty() ? Optional.empty() : Optional.of(VmRecord.parse(text.get()));
    }

    private void writeRecord(TrustedDirectory state, VmRecord record) throws IOException {
        writeState(state, VmRecord.FILE, record.serialize());
    }

    private Optional<String> owner() {
        try (TrustedDirectory state = stateDirectory(false)) {
            return record(state).map(VmRecord::owner);
        } catch (HelperException | IOException e) {
            return Optional.empty();
        }
    }

    /** Refuses a caller who may not change the VM; a VM without a record is left to the operation to report. */
    private void requireMayChange(Caller caller, String action) throws HelperException {
        Optional<String> owner = owner();
        if (owner.isPresent()) {
            ownership.requireMayChange(caller, "the VM", owner.get(), action);
        }
    }

    /** The disk's directory: the helper's own, or one its owner chose, whose chain may also be the owner's. */
    private TrustedDirectory diskDirectory(VmRecord record) throws HelperException {
        return record.diskDirectory().equals(settings.vmDir()) ? stateDirectory(false)
                : TrustedDirectory.open(record.diskDirectory(), owners(Optional.of(record.owner())));
    }

    /**
     * Where a caller may move the disk: the helper's own directory; a directory on the install's
     * allow-list; or a directory of the caller's own (root's also of the installed user's) and
     * never, for a member, a directory root owns.
     */
    private TrustedDirectory destinationDirectory(Path destination, Caller caller) throws HelperException {
        if (destination.equals(settings.vmDir())) {
            return stateDirectory(false);
        }
        Set<String> chain = owners(Optional.of(caller.user()));
        if (settings.diskDirectories().contains(destination)) {
            return TrustedDirectory.open(destination, chain);
        }
        Set<String> own = trusted(caller.user());
        if (Ownership.root(caller)) {
            own.add("root");
            own.add(helperUser);
            settings.installingUser().ifPresent(own::add);
        }
        return TrustedDirectory.open(destination, chain, own, "the disk moves only into a directory of "
                + caller.user() + "'s own or one listed in " + HelperSettings.VM_DISK_DIRS + " at install");
    }

    /** The helper's effective uid; called only once {@link DescriptorFiles} found the natives bundle there. */
    private static int helperUid() throws IOException {
        return Accounts.effectiveUid();
    }

    private boolean exists() throws HelperException {
        try (TrustedDirectory state = stateDirectory(false)) {
            return diskDirectory(state).isPresent();
        } catch (HelperException e) {
            return false;
        } catch (IOException e) {
            throw failed("reading the VM's state", e);
        }
    }

    /**
     * The recorded disk for the emulator: opened through its checked directory by a descriptor that
     * was checked to be that very file, then reopened through that descriptor, read-write and read-only
     * (QEMU's block layer wants both).
     */
    private int[] openDisk(Path diskDir, Caller caller) throws HelperException, IOException {
        try (TrustedDirectory state = stateDirectory(false)) {
            VmRecord record = record(state).orElseThrow(() -> new HelperException(HelperErrors.INVALID,
                    "the VM has no record of its disk; run vm.create once to adopt it"));
            try (TrustedDirectory dir = diskDirectory(record); DescriptorFiles.Opened disk = files.open(dir, DISK, true)) {
                record.requireTheDisk(disk, helperUid());
                String checked = disk.path().toString();
                int readWrite;
                int readOnly;
                try {
                    readWrite = DescriptorWalk.openat(FileDescriptors.AT_FDCWD, checked, FileDescriptors.O_RDWR);
                } catch (IOException e) {
                    throw cannotOpenDisk(diskDir, e);
                }
                try {
                    readOnly = DescriptorWalk.openat(FileDescriptors.AT_FDCWD, checked, FileDescriptors.O_RDONLY);
                } catch (IOException e) {
                    FileDescriptors.closeQuietly(readWrite);
                    throw cannotOpenDisk(diskDir, e);
                }
                return new int[] {readWrite, readOnly};
            }
        }
    }

    private static HelperException cannotOpenDisk(Path diskDir, IOException e) {
        return new HelperException(HelperErrors.FAILED, "cannot open the disk in " + diskDir + ": " + e.getMessage());
    }

    /**
     * A socket {@code name} of the caller's Slipway runtime, beside its VM socket
     * ({@code ~/.slipway/run/vm.sock}): every directory up to it belongs to root or the caller and
     * nobody else may write it, and it is a socket of the caller. A clear refusal before the VM's logs
     * are reset; {@link RuntimeSocket} checks again on the descriptors it connects through, which is
     * what counts.
     */
    private Path userSocket(Caller caller, String name) throws HelperException {
        Path home;
        try {
            home = accounts.homeDirectory(caller.user()).orElseThrow(() -> new HelperException(HelperErrors.FAILED,
                    caller.user() + " has no home directory"));
        } catch (IOException e) {
            throw failed("looking up " + caller.user() + "'s home", e);
        }
        Path vmSocket = home.resolve(settings.userVmSocket()).normalize();
        if (!vmSocket.startsWith(home) || vmSocket.toString().contains(",") || vmSocket.getParent() == null) {
            throw new HelperException(HelperErrors.FAILED, "the configured VM socket is not a plain path under the home");
        }
        Path socket = vmSocket.resolveSibling(name);
        try (TrustedDirectory dir = TrustedDirectory.open(socket.getParent(), trusted("root", caller.user()))) {
            PosixFileAttributes a = dir.entry(socket.getFileName().toString()).orElseThrow(() -> new HelperException(
                    HelperErrors.UNAVAILABLE, "no socket at " + socket + "; start Slipway first (slipway up)"));
            if (!a.isOther() || a.isSymbolicLink()) {
                throw new HelperException(HelperErrors.REFUSED, socket + " is not a socket");
            }
            if (!a.owner().getName().equals(caller.user()) && !a.owner().getName().equals("root")) {
                throw new HelperException(HelperErrors.REFUSED, socket + " belongs to " + a.owner().getName());
            }
        } catch (IOException e) {
            throw failed("checking " + socket, e);
        }
        return socket;
    }

    /**
     * Whether the runtime serves an engine channel beside its VM socket (a socket entry there; the
     * connect through checked descriptors decides). A runtime without one boots a guest without the port.
     */
    private static boolean engineSocketServed(Path engine) {
        try {
            return Files.readAttributes(engine, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    private static Set<String> trusted(String... owners) {
        return new LinkedHashSet<>(java.util.Arrays.asList(owners));
    }

    private Set<String> owners(Optional<String> caller) {
        Set<String> owners = new LinkedHashSet<>();
        owners.add("root");
        owners.add(helperUser);
        settings.installingUser().ifPresent(owners::add);
        caller.ifPresent(owners::add);
        return owners;
    }

    /** The running VM: the one this helper started, or one a previous helper left (found by its pid file). */
    private Optional<Running> alive() {
        Running r = running;
        if (r != null) {
            if (!r.exited().isDone()) {
                return Optional.of(r);
            }
            running = null;
        }
        try (TrustedDirectory state = stateDirectory(false)) {
            Optional<String> written = readState(state, PID_FILE);
            if (written.isEmpty()) {
                return Optional.empty();
            }
            // pid, the process's start (so a reused pid is not taken for the VM), accelerator, reason
            List<String> lines = written.get().lines().toList();
            Optional<ProcessHandle> p = ProcessHandle.of(Long.parseLong(lines.get(0).trim()));
            boolean same = p.isPresent() && p.get().isAlive() && lines.size() >= 2 && p.get().info().startInstant()
                    .map(i -> Long.toString(i.toEpochMilli()).equals(lines.get(1).trim())).orElse(false);
            if (same) {
                VmBackend.Accelerator accelerator = lines.size() >= 4
                        ? new VmBackend.Accelerator(lines.get(2), lines.get(3)) : null;
                return Optional.of(new Running(p.get(), p.get().onExit(), null, accelerator));
            }
        } catch (HelperException | IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private void prepareLog(TrustedDirectory state, String name) throws IOException {
        Path file = Path.of(name);
        try {
            state.stream().deleteFile(file);
        } catch (java.nio.file.NoSuchFileException e) {
            // first boot
        }
        Optional<GroupPrincipal> group = group();
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString(group.isPresent() ? "rw-r-----" : "rw-------");
        try (SeekableByteChannel c = state.stream().newByteChannel(file, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(mode))) {
            PosixFileAttributeView view = state.stream().getFileAttributeView(file, PosixFileAttributeView.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (group.isPresent()) {
                view.setGroup(group.get());
            }
            view.setPermissions(mode);
        }
    }

    /** The helper's group (slipway-users): members read the console log, nobody else. */
    private Optional<GroupPrincipal> group() {
        try {
            return Optional.of(FileSystems.getDefault().getUserPrincipalLookupService()
                    .lookupPrincipalByGroupName(settings.group()));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> readState(TrustedDirectory state, String name) throws IOException {
        Optional<PosixFileAttributes> a = state.entry(name);
        if (a.isEmpty()) {
            return Optional.empty();
        }
        if (!a.get().isRegularFile() || a.get().size() > 4096) {
            throw new IOException(state.path().resolve(name) + " is not a small regular file");
        }
        try (SeekableByteChannel c = state.stream().newByteChannel(Path.of(name), Set.of(StandardOpenOption.READ,
                LinkOption.NOFOLLOW_LINKS))) {
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (b.hasRemaining() && c.read(b) > 0) {
                // until the end or the bound
            }
            b.flip();
            return Optional.of(StandardCharsets.UTF_8.decode(b).toString());
        }
    }

    private static void writeState(TrustedDirectory state, String name, String value) throws IOException {
        Path partial = Path.of("." + name + ".partial");
        try {
            state.stream().deleteFile(partial);
        } catch (java.nio.file.NoSuchFileException e) {
            // the usual case
        }
        try (FileChannel c = (FileChannel) state.stream().newByteChannel(partial, Set.of(StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-r--r--")))) {
            c.write(ByteBuffer.wrap(value.getBytes(StandardCharsets.UTF_8)));
            c.force(true);
        }
        state.stream().move(partial, state.stream(), Path.of(name));
    }

    /** Deletes the recorded disk; anything else at its name stays. @return why something stayed */
    private Optional<String> deleteIfTheDisk(TrustedDirectory dir, VmRecord record) throws IOException {
        try (DescriptorFiles.Opened disk = files.open(dir, DISK, false)) {
            if (!disk.identity.sameFile(record.device(), record.inode())) {
                return Optional.of(disk.where + " is not the VM's disk; left as it is");
            }
            files.removeIfStill(dir, DISK, disk.identity);
            return Optional.empty();
        } catch (HelperException e) {
            return Optional.of(e.getMessage() + "; left as it is");
        }
    }

    private static void deleteIfRegular(TrustedDirectory dir, String name) throws IOException {
        Optional<PosixFileAttributes> a = dir.entry(name);
        if (a.isPresent() && a.get().isRegularFile()) {
            dir.stream().deleteFile(Path.of(name));
        }
    }

    private static String tail(TrustedDirectory state, String name) {
        try {
            Optional<PosixFileAttributes> a = state.entry(name);
            if (a.isEmpty()) {
                return "(no output)";
            }
            try (SeekableByteChannel c = state.stream().newByteChannel(Path.of(name), Set.of(StandardOpenOption.READ,
                    LinkOption.NOFOLLOW_LINKS))) {
                long size = c.size();
                c.position(Math.max(0, size - 2000));
                ByteBuffer b = ByteBuffer.allocate(2000);
                while (b.hasRemaining() && c.read(b) > 0) {
                    // bounded by the buffer
                }
                b.flip();
                return StandardCharsets.UTF_8.decode(b).toString().strip();
            }
        } catch (IOException e) {
            return "(its log cannot be read: " + e.getMessage() + ")";
        }
    }

    private static boolean waitForExit(CompletableFuture<?> exited, Duration timeout) {
        try {
            exited.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return exited.isDone();
        }
    }

    private static HelperException failed(String what, IOException e) {
        return new HelperException(HelperErrors.FAILED, what + " failed: " + e.getMessage(), e);
    }
}

package dev.slipway.helper.vm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * QEMU on Linux, run through {@code setpriv} as an unprivileged account inside QEMU's seccomp
 * sandbox. {@code auto} picks KVM only when a probe QEMU, run exactly like the VM's, brings a vCPU
 * up with it; the verdict holds until the KVM device changes.
 */
final class QemuBackend implements VmBackend {

    /** Locally administered, stable: the guest keeps its DHCP lease across boots. */
    static final String GUEST_MAC = "52:54:00:53:4c:01";
    static final String SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
    static final Map<String, String> ENVIRONMENT = Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL", "C");

    private final Logger log = LoggerFactory.getLogger(QemuBackend.class);
    private final String emulator;
    private final Path kvmDevice;
    private final boolean switchesUser;
    /** Per account: the device as it was probed and the verdict. */
    private final Map<Integer, Verdict> verdicts = new HashMap<>();

    private record Verdict(String device, Accelerator accelerator) {}

    /**
     * @param switchesUser whether the helper may change the emulator's uid (it runs as root); when not,
     *        the emulator keeps the helper's own unprivileged uid
     */
    QemuBackend(String emulator, Path kvmDevice, boolean switchesUser) {
        this.emulator = emulator;
        this.kvmDevice = kvmDevice;
        this.switchesUser = switchesUser;
    }

    @Override
    public synchronized Accelerator accelerator(String configured, Account account) {
        if (configured.equals("kvm") || configured.equals("tcg")) {
            return new Accelerator(configured, "configured");
        }
        Optional<String> device = deviceIdentity();
        if (device.isEmpty()) {
            return new Accelerator("tcg", "no " + kvmDevice);
        }
        Verdict known = verdicts.get(account.uid());
        if (known != null && known.device().equals(device.get())) {
            return known.accelerator();
        }
        Accelerator verdict = probe(account);
        if (verdict.name().equals("tcg")) {
            log.warn("VM accelerator: " + verdict.describe());
        } else {
            log.info("VM accelerator: " + verdict.describe());
        }
        verdicts.put(account.uid(), new Verdict(device.get(), verdict));
        return verdict;
    }

    @Override
    public synchronized void kvmFailedAtStart(Account account, String why) {
        Accelerator tcg = new Accelerator("tcg", "kvm failed at start: " + why);
        log.warn("VM accelerator: " + tcg.describe());
        deviceIdentity().ifPresent(d -> verdicts.put(account.uid(), new Verdict(d, tcg)));
    }

    /** What changes when the device is replaced or its permissions change; empty when there is none. */
    private Optional<String> deviceIdentity() {
        try {
            Map<String, Object> a = Files.readAttributes(kvmDevice, "unix:ino,dev,ctime,mode,uid,gid,rdev");
            return Optional.of(a.get("dev") + ":" + a.get("ino") + ":" + a.get("rdev") + ":" + a.get("ctime") + ":"
                    + a.get("mode") + ":" + a.get("uid") + ":" + a.get("gid"));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /**
     * Runs the emulator as the VM would run (same account, sandbox, machine and CPU) with KVM,
     * stopped at start, over QMP on stdio; resumes the vCPU and asks whether it runs. KVM's vCPU
     * set-up (where CPUs that reject an MSR make QEMU abort) happens before QMP answers at all.
     */
    Accelerator probe(Account account) {
        List<String> command = new ArrayList<>(privilegeDrop(account, kvmGroup()));
        command.addAll(List.of(emulator, "-accel", "kvm", "-machine", "q35", "-cpu", "host", "-m", "64", "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-sandbox", SANDBOX, "-S", "-qmp", "stdio"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(ENVIRONMENT);
        Process p;
        try {
            p = builder.start();
        } catch (IOException e) {
            return new Accelerator("tcg", "kvm probe failed: " + e.getMessage());
        }
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null && lines.size() < 1000; line = r.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the probe ended
            }
        }, "kvm-probe-output");
        reader.setDaemon(true);
        reader.start();
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + PROBE_TIMEOUT.toNanos();
        try (OutputStream in = p.getOutputStream()) {
            in.write("{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"cont\"}\n{\"execute\":\"query-status\"}\n"
                    .getBytes(StandardCharsets.UTF_8));
            in.flush();
            while (System.nanoTime() < deadline) {
                String line = lines.poll(50, TimeUnit.MILLISECONDS);
                if (line != null) {
                    seen.add(line);
                    if (line.contains("\"return\"") && line.replace(" ", "").contains("\"running\":true")) {
                        in.write("{\"execute\":\"quit\"}\n".getBytes(StandardCharsets.UTF_8));
                        in.flush();
                        return new Accelerator("kvm", "probed");
                    }
                } else if (!p.isAlive()) {
                    reader.join(1000);
                    drain(lines, seen);
                    return new Accelerator("tcg", "kvm probe failed: exit " + p.exitValue() + firstError(seen));
                }
            }
            return new Accelerator("tcg", "kvm probe failed: no running vCPU within " + PROBE_TIMEOUT.toSeconds() + " s"
                    + firstError(seen));
        } catch (IOException e) {
            // stdin closed: the probe died; its exit code says more
            try {
                p.waitFor(1, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            try {
                reader.join(1000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            drain(lines, seen);
            return new Accelerator("tcg", "kvm probe failed: " + (p.isAlive() ? e.getMessage() : "exit " + p.exitValue())
                    + firstError(seen));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Accelerator("tcg", "kvm probe interrupted");
        } finally {
            stop(p);
        }
    }

    private static void drain(BlockingQueue<String> lines, List<String> seen) {
        for (String l = lines.poll(); l != null; l = lines.poll()) {
            seen.add(l);
        }
    }

    private static void stop(Process p) {
        try {
            if (!p.waitFor(500, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(2, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** ": " and the emulator's first error line without its program-name prefix, or nothing. */
    static String firstError(List<String> output) {
        for (String line : output) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("{")) {
                continue;
            }
            l = l.replaceFirst("^[^\\s:]+: (error: )?", "");
            return ": " + (l.length() > 200 ? l.substring(0, 200) + "..." : l);
        }
        return "";
    }

    /** The KVM device's group when the emulator needs it to open the device (mode 0660 root:kvm). */
    private OptionalInt kvmGroup() {
        try {
            Map<String, Object> a = Files.readAttributes(kvmDevice, "unix:mode,gid", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            boolean othersMay = (mode & 06) == 06;
            return othersMay ? OptionalInt.empty() : OptionalInt.of((Integer) a.get("gid"));
        } catch (IOException | UnsupportedOperationException e) {
            return OptionalInt.empty();
        }
    }

    /**
     * {@code setpriv} (util-linux, exec's the emulator itself, no shell): the account's uid and gid,
     * no supplementary groups but the KVM device's when needed, no capabilities, no new privileges.
     */
    List<String> privilegeDrop(Account account, OptionalInt extraGroup) {
        if (!switchesUser) {
            return List.of("setpriv", "--no-new-privs", "--");
        }
        List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=" + account.uid(), "--regid=" + account.gid()));
        c.add(extraGroup.isPresent() ? "--groups=" + extraGroup.getAsInt() : "--clear-groups");
        c.addAll(List.of("--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"));
        return c;
    }

    @Override
    public List<String> command(Launch l) {
        boolean kvm = l.accelerator().name().equals("kvm");
        List<String> c = new ArrayList<>(privilegeDrop(l.account(), kvm ? kvmGroup() : OptionalInt.empty()));
        c.add(emulator);
        c.addAll(List.of("-name", l.name(), "-machine", "q35", "-accel", l.accelerator().name()));
        c.addAll(List.of("-cpu", kvm ? "host" : "max"));
        c.addAll(List.of("-m", Integer.toString(l.memoryMb()), "-smp", Integer.toString(l.cpus())));
        c.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        c.addAll(List.of("-sandbox", SANDBOX));
        c.addAll(List.of("-kernel", l.kernel().toString(), "-initrd", l.initrd().toString(), "-append", l.cmdline()));
        // the helper's descriptors: QEMU opens none of the VM's files by name
        c.addAll(List.of("-add-fd", "fd=" + DISK_FD + ",set=1", "-add-fd", "fd=" + DISK_READ_FD + ",set=1",
                "-drive", "file=/dev/fdset/1,format=raw,if=virtio"));
        c.addAll(List.of("-add-fd", "fd=" + CONSOLE_FD + ",set=2", "-chardev", "file,id=console,path=/dev/fdset/2,append=on",
                "-serial", "chardev:console"));
        // server mode: after the runtime's connection ends, QEMU listens again for the next one
        c.addAll(List.of("-netdev", "stream,id=n0,server=on,addr.type=fd,addr.str=" + NET_FD));
        c.addAll(List.of("-device", "virtio-net-pci,netdev=n0,mac=" + GUEST_MAC + ",romfile="));
        if (l.engineChannel()) {
            c.addAll(List.of("-device", "virtio-serial-pci", "-chardev", "socket,id=engine,fd=" + ENGINE_FD + ",server=on,wait=off",
                    "-device", "virtserialport,chardev=engine,name=" + ENGINE_PORT));
        }
        return c;
    }

    /** QEMU's option syntax: a comma inside a value is written twice. */
    static String option(Path p) {
        return p.toString().replace(",", ",,");
    }
}

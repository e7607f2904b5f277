package dev.slipway.vm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** QEMU on Linux: KVM when /dev/kvm can be opened, otherwise TCG; the disk handed over through /proc. */
final class QemuBackend implements VmBackend {

    /** Locally administered, stable: the guest keeps its DHCP lease across boots. */
    static final String GUEST_MAC = "52:54:00:53:4c:01";

    private final String emulator;
    private final Path kvmDevice;

    QemuBackend(String emulator, Path kvmDevice) {
        this.emulator = emulator;
        this.kvmDevice = kvmDevice;
    }

    @Override
    public String accelerator(String configured) {
        return switch (configured) {
            case "kvm", "tcg" -> configured;
            default -> Files.isReadable(kvmDevice) && Files.isWritable(kvmDevice) ? "kvm" : "tcg";
        };
    }

    @Override
    public List<String> command(Launch l) {
        List<String> c = new ArrayList<>();
        c.add(emulator);
        c.addAll(List.of("-name", l.name(), "-machine", "q35", "-accel", l.accelerator()));
        c.addAll(List.of("-cpu", l.accelerator().equals("kvm") ? "host" : "max"));
        c.addAll(List.of("-m", Integer.toString(l.memoryMb()), "-smp", Integer.toString(l.cpus())));
        c.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        c.addAll(List.of("-serial", "file:" + l.consoleLog()));
        c.addAll(List.of("-kernel", l.kernel().toString(), "-initrd", l.initrd().toString(), "-append", l.cmdline()));
        c.addAll(List.of("-drive", "file=" + option(l.disk()) + ",format=raw,if=virtio"));
        c.addAll(List.of("-netdev", "stream,id=n0,addr.type=unix,addr.path=" + option(l.netSocket())));
        c.addAll(List.of("-device", "virtio-net-pci,netdev=n0,mac=" + GUEST_MAC + ",romfile="));
        c.addAll(List.of("-pidfile", l.pidFile().toString()));
        return c;
    }

    /** QEMU's option syntax: a comma inside a value is written twice. */
    static String option(Path p) {
        return p.toString().replace(",", ",,");
    }

    @Override
    public Path heldFile(Object fileKey) throws IOException {
        Objects.requireNonNull(fileKey, "fileKey");
        long pid = ProcessHandle.current().pid();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    BasicFileAttributes a = Files.readAttributes(fd, BasicFileAttributes.class);
                    if (a.isRegularFile() && fileKey.equals(a.fileKey())) {
                        return Path.of("/proc", Long.toString(pid), "fd", fd.getFileName().toString());
                    }
                } catch (IOException closedMeanwhile) {
                    // another thread's descriptor went away while listing: not ours
                }
            }
        }
        throw new IOException("the opened disk is not among this process's descriptors");
    }
}

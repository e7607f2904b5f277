package dev.slipway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * A tiny guest built at test time from Debian's packages: the kernel of {@code linux-image-amd64},
 * an initramfs holding busybox-static, the kernel's virtio-net modules (with their dependencies
 * from {@code modules.dep}) and an init script. The initramfs is written in the kernel's "newc"
 * cpio format directly: a few dozen lines, and no dependency on the cpio tool's file ordering.
 *
 * <p>{@link #busybox} is the guest the VM tests boot: {@link #prologue()} loads the network
 * modules, brings eth0 up and takes a DHCP lease (printing {@code SLIPWAY-LEASE ip=... router=...
 * dns=...} on the console), then runs the test's own script. Used by helper/vm's tests (in-JVM
 * network stack and VM manager) and by the end-to-end test (the real helper and runtime).
 */
public final class GuestImage {

    public static final String PACKAGES = "apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static";
    public static final String EMULATOR = "qemu-system-x86_64";
    static final List<String> NETWORK_MODULES = List.of("virtio_pci", "virtio_net");

    /** A kernel and the modules directory of the same version. */
    public record Kernel(Path image, Path modules) {}

    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final Map<String, Integer> modes = new LinkedHashMap<>();
    private final Set<String> dirs = new LinkedHashSet<>();

    /** Skips the calling test, with the packages to install, when the guest cannot be built and booted here. */
    public static Kernel assumeAvailable() throws IOException {
        Optional<String> missing = missing();
        Assumptions.assumeTrue(missing.isEmpty(), () -> missing.orElse(""));
        return installedKernel().orElseThrow();
    }

    /** What this machine lacks to build and boot the guest (with the packages that bring it), if anything. */
    public static Optional<String> missing() throws IOException {
        if (!Prerequisites.onPath(EMULATOR)) {
            return Optional.of("needs " + EMULATOR + ": " + PACKAGES);
        }
        if (installedKernel().isEmpty()) {
            return Optional.of("needs a kernel in /boot with its modules: " + PACKAGES);
        }
        if (!staticBusybox()) {
            return Optional.of("needs a statically linked /bin/busybox: " + PACKAGES);
        }
        return Optional.empty();
    }

    /** An ELF without a program interpreter: runs in an initramfs with no libc. */
    public static boolean staticBusybox() throws IOException {
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isReadable(busybox)) {
            return false;
        }
        byte[] head = Files.readAllBytes(busybox);
        String text = new String(head, 0, Math.min(head.length, 4096), StandardCharsets.ISO_8859_1);
        return !text.contains("/lib64/ld-linux") && !text.contains("/lib/ld-linux");
    }

    /** Debian's newest kernel whose modules are installed, if any. */
    public static Optional<Kernel> installedKernel() throws IOException {
        Path boot = Path.of("/boot");
        if (!Files.isDirectory(boot)) {
            return Optional.empty();
        }
        List<Kernel> found = new ArrayList<>();
        try (DirectoryStream<Path> images = Files.newDirectoryStream(boot, "vmlinuz-*")) {
            for (Path image : images) {
                String version = image.getFileName().toString().substring("vmlinuz-".length());
                Path modules = Path.of("/lib/modules", version);
                if (Files.isReadable(image) && Files.isReadable(modules.resolve("modules.dep"))) {
                    found.add(new Kernel(image, modules));
                }
            }
        }
        return found.stream().max((a, b) -> a.image().getFileName().toString().compareTo(b.image().getFileName().toString()));
    }

    /** The modules to load for {@code wanted}, dependencies first, as paths relative to the modules dir. */
    public static List<String> loadOrder(Path modulesDep, List<String> wanted) throws IOException {
        Map<String, List<String>> deps = new LinkedHashMap<>();
        Map<String, String> byName = new LinkedHashMap<>();
        for (String line : Files.readAllLines(modulesDep)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String module = line.substring(0, colon).trim();
            List<String> d = new ArrayList<>();
            for (String dep : line.substring(colon + 1).trim().split("\\s+")) {
                if (!dep.isEmpty()) {
                    d.add(dep);
                }
            }
            deps.put(module, d);
            byName.put(moduleName(module), module);
        }
        List<String> order = new ArrayList<>();
        for (String w : wanted) {
            String module = byName.get(w);
            if (module == null) {
                throw new IOException(w + " is not in " + modulesDep + " (built into this kernel?)");
            }
            visit(module, deps, order, new LinkedHashSet<>());
        }
        return order;
    }

    private static void visit(String module, Map<String, List<String>> deps, List<String> order, Set<String> path) {
        if (order.contains(module) || !path.add(module)) {
            return;
        }
        for (String d : deps.getOrDefault(module, List.of())) {
            visit(d, deps, order, path);
        }
        order.add(module);
    }

    static String moduleName(String modulePath) {
        String file = modulePath.substring(modulePath.lastIndexOf('/') + 1);
        return file.replaceFirst("\\.ko(\\.(xz|gz|zst))?$", "").replace('-', '_');
    }

    /**
     * The start of every guest's /init: busybox's applets, /proc, /sys, /dev, the network modules,
     * eth0 up ({@code SLIPWAY-BOOTED}), a DHCP lease with {@code udhcpc} ({@code SLIPWAY-LEASE ...}).
     */
    public static String prologue() {
        return """
                #!/bin/busybox sh
                /bin/busybox --install -s /bin
                mkdir -p /proc /sys /dev /tmp /etc
                mount -t proc proc /proc
                mount -t sysfs sys /sys
                mount -t devtmpfs dev /dev 2>/dev/null
                for m in $(cat /etc/modules.order); do insmod /lib/modules/$m; done
                ip link set lo up
                ip link set eth0 up
                echo SLIPWAY-BOOTED $(cut -d' ' -f1 /proc/uptime)
                udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/udhcpc.script 2>&1 | grep -v '^udhcpc: \\(started\\|broadcasting\\|sending\\)'
                """;
    }

    /**
     * The busybox guest for {@code kernel} with {@code init} as its whole /init (usually
     * {@link #prologue()} followed by the test's script): busybox, the network modules, the DHCP
     * client's script, glibc's NSS modules for busybox's {@code wget} and {@code nslookup}.
     */
    public static GuestImage busybox(Kernel kernel, String init) throws IOException {
        GuestImage image = new GuestImage().dir("bin").dir("proc").dir("sys").dir("dev").dir("tmp").dir("etc");
        image.file("bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
        StringBuilder order = new StringBuilder();
        for (String module : loadOrder(kernel.modules().resolve("modules.dep"), NETWORK_MODULES)) {
            String name = Path.of(module).getFileName().toString();
            image.file("lib/modules/" + name, Files.readAllBytes(kernel.modules().resolve(module)), 0644);
            order.append(name).append('\n');
        }
        image.text("etc/modules.order", order.toString(), 0644);
        image.text("etc/udhcpc.script", """
                #!/bin/sh
                case "$1" in
                  bound|renew)
                    ip addr add "$ip/$mask" dev "$interface"
                    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
                    : > /etc/resolv.conf
                    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
                    echo "SLIPWAY-LEASE ip=$ip mask=$mask router=$router dns=$dns mtu=$mtu at $(cut -d' ' -f1 /proc/uptime)"
                    ;;
                esac
                """, 0755);
        // busybox-static's wget resolves through glibc's getaddrinfo, which loads the NSS modules
        // (and the libc they need) at run time even in a static binary; without them it crashes
        for (String lib : List.of("libnss_dns.so.2", "libnss_files.so.2", "libresolv.so.2")) {
            Path p = Path.of("/lib/x86_64-linux-gnu", lib);
            if (Files.isReadable(p)) {
                withLibraries(image, p);
                image.file(p.toString().substring(1), Files.readAllBytes(p), 0755);
            }
        }
        image.text("etc/nsswitch.conf", "hosts: files dns\n", 0644);
        image.text("etc/hosts", "127.0.0.1 localhost\n", 0644);
        image.text("init", init, 0755);
        return image;
    }

    /**
     * Adds a dynamically linked host program at the same path, with every library {@code ldd}
     * lists (the guest runs the host's own libc, so the versions match).
     */
    public static void binary(GuestImage image, Path program) throws IOException {
        image.file(program.toString().substring(1), Files.readAllBytes(program), 0755);
        withLibraries(image, program);
    }

    static void withLibraries(GuestImage image, Path program) throws IOException {
        Process ldd = new ProcessBuilder("ldd", program.toString()).redirectErrorStream(true).start();
        String out = new String(ldd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!ldd.waitFor(10, TimeUnit.SECONDS)) {
                ldd.destroyForcibly();
                throw new IOException("ldd " + program + " did not finish");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        for (String line : out.lines().toList()) {
            String[] parts = line.trim().split("\\s+");
            for (String part : parts) {
                if (part.startsWith("/") && Files.isReadable(Path.of(part))) {
                    // copied under the name the loader looks for, whatever the link points at
                    image.file(part.substring(1), Files.readAllBytes(Path.of(part)), 0755);
                }
            }
        }
    }

    /** Lines of {@code text} (a console log) that start with {@code prefix}. */
    public static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    public GuestImage dir(String path) {
        String p = "";
        for (String part : path.split("/")) {
            p = p.isEmpty() ? part : p + "/" + part;
            dirs.add(p);
        }
        return this;
    }

    public GuestImage file(String path, byte[] content, int mode) {
        int slash = path.lastIndexOf('/');
        if (slash > 0) {
            dir(path.substring(0, slash));
        }
        files.put(path, content);
        modes.put(path, mode);
        return this;
    }

    public GuestImage text(String path, String content, int mode) {
        return file(path, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    /** Writes the initramfs to {@code file} (replacing it). */
    public void writeCpio(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            writeCpio(out);
        }
    }

    /** The initramfs: directories first, then files, then the trailer. */
    public void writeCpio(OutputStream out) throws IOException {
        int ino = 1;
        for (String d : dirs) {
            entry(out, ino++, d, 0040755, new byte[0]);
        }
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            entry(out, ino++, f.getKey(), 0100000 | modes.get(f.getKey()), f.getValue());
        }
        entry(out, 0, "TRAILER!!!", 0, new byte[0]);
    }

    private static void entry(OutputStream out, int ino, String name, int mode, byte[] data) throws IOException {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream header = new ByteArrayOutputStream(110 + nameBytes.length + 4);
        header.write("070701".getBytes(StandardCharsets.US_ASCII));
        for (long field : new long[] {ino, mode, 0, 0, mode == 0 ? 1 : ((mode & 0040000) != 0 ? 2 : 1), 0, data.length,
                0, 0, 0, 0, nameBytes.length, 0}) {
            header.write(String.format("%08x", field).getBytes(StandardCharsets.US_ASCII));
        }
        header.write(nameBytes);
        pad(header, header.size());
        out.write(header.toByteArray());
        out.write(data);
        pad(out, data.length);
    }

    private static void pad(OutputStream out, int length) throws IOException {
        int rest = (4 - length % 4) % 4;
        for (int i = 0; i < rest; i++) {
            out.write(0);
        }
    }
}

package dev.slipway.helper.vm;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.Assumptions;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.dns.server.DnsConfig;
import dev.slipway.dns.server.DnsServer;
import dev.slipway.dns.server.DnsStats;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.transport.SocketListener;
import dev.slipway.networking.stack.transport.StreamTransport;
import dev.slipway.testing.Prerequisites;

/**
 * One real guest for tests and the benchmark: Slipway's stack and DNS server in this JVM serving
 * the QEMU stream socket at {@code home/.slipway/run/vm.sock}, an HTTP server on the host's
 * 127.0.0.1, and the VM manager booting Debian's kernel with an initramfs built here whose init
 * script is the caller's.
 */
final class RealGuest implements AutoCloseable {

    static final String PACKAGES = "apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static";
    static final String EMULATOR = "qemu-system-x86_64";
    /** The emulator's account when the tests run as root (as the helper does): vm-user. */
    static final String EMULATOR_USER = "nobody";

    final Path root;
    final Path home;
    final NetStack stack;
    final DnsServer dns;
    final SocketListener listener;
    final HttpServer http;
    final VmManager manager;
    final Path vmDir;
    volatile Map<String, Object> statusDuringRequest;

    /** Skips the calling test, with the packages to install, when the guest cannot be built here. */
    static GuestImage.Kernel assumeAvailable() throws IOException {
        Assumptions.assumeTrue(Prerequisites.onPath(EMULATOR), "needs " + EMULATOR + ": " + PACKAGES);
        Optional<GuestImage.Kernel> kernel = GuestImage.installedKernel();
        Assumptions.assumeTrue(kernel.isPresent(), "needs a kernel in /boot with its modules: " + PACKAGES);
        Assumptions.assumeTrue(staticBusybox(), "needs a statically linked /bin/busybox: " + PACKAGES);
        return kernel.get();
    }


    /** An ELF without a program interpreter: runs in an initramfs with no libc. */
    static boolean staticBusybox() throws IOException {
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isReadable(busybox)) {
            return false;
        }
        byte[] head = Files.readAllBytes(busybox);
        String text = new String(head, 0, Math.min(head.length, 4096), StandardCharsets.ISO_8859_1);
        return !text.contains("/lib64/ld-linux") && !text.contains("/lib/ld-linux");
    }

    /**
     * @param init the guest's /init after the common prologue (modules loaded, eth0 up, DHCP done)
     * @param extraFiles more files for the initramfs (path inside, content, mode)
     */
    RealGuest(GuestImage.Kernel kernel, String init, Consumer<GuestImage> extraFiles, int memoryMb) throws IOException {
        this(kernel, init, extraFiles, memoryMb, "");
    }

    /** @param extraCmdline words appended to the guest kernel's command line (the init script reads them) */
    RealGuest(GuestImage.Kernel kernel, String init, Consumer<GuestImage> extraFiles, int memoryMb, String extraCmdline)
            throws IOException {
        root = TestRoot.create("guest");
        home = TestRoot.dir(root, "home");
        TestRoot.dir(root, "home/.slipway");
        Path run = TestRoot.dir(root, "home/.slipway/run");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
        vmDir = root.resolve("vm");

        stack = new NetStack(NetConfig.defaults());
        dns = new DnsServer(new DnsStats(), defaults(DnsConfig.class));
        stack.dns(dns);
        listener = new SocketListener(run.resolve("vm.sock"), StreamTransport.Framing.QEMU, NetConfig.defaults().mtu(),
                stack::attach);
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", ex -> {
            statusDuringRequest = stack.status();
            byte[] body = "hello from the host\n".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();

        Path initrd = root.resolve("initrd.cpio");
        GuestImage image = image(kernel, prologue() + init.replace("@HTTP_PORT@", Integer.toString(http.getAddress().getPort())));
        extraFiles.accept(image);
        try (OutputStream out = Files.newOutputStream(initrd)) {
            image.writeCpio(out);
        }
        var settings = new VmManager.Settings(vmDir, Optional.of(kernel.image()), Optional.of(initrd),
                ("console=ttyS0 quiet panic=-1 " + extraCmdline).strip(), memoryMb, 1, 64L << 20, "auto", ".slipway/run/vm.sock", "root",
                Optional.empty(), List.of(), Optional.of(EMULATOR_USER));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(home); }
        };
        manager = new VmManager(settings, new QemuBackend(EMULATOR, Path.of("/dev/kvm"),
                System.getProperty("user.name").equals("root")), accounts, p -> { });
    }

    static String prologue() {
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

    static GuestImage image(GuestImage.Kernel kernel, String init) throws IOException {
        GuestImage image = new GuestImage().dir("bin").dir("proc").dir("sys").dir("dev").dir("tmp").dir("etc");
        image.file("bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
        StringBuilder order = new StringBuilder();
        for (String module : GuestImage.loadOrder(kernel.modules().resolve("modules.dep"), GuestImage.NETWORK_MODULES)) {
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
    static void binary(GuestImage image, Path program) throws IOException {
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

    /** Creates the VM and boots it through the manager, as {@code vm.create} and {@code vm.start} do. */
    Map<String, Object> boot() throws Exception {
        Caller me = new Caller(System.getProperty("user.name"), System.getProperty("user.name"));
        manager.create(me);
        return manager.start(me);
    }

    Path console() {
        return vmDir.resolve(VmManager.CONSOLE_LOG);
    }

    String consoleText() throws IOException {
        return Files.exists(console()) ? Files.readString(console(), StandardCharsets.ISO_8859_1) : "";
    }

    /** Waits until the console shows {@code marker} or the VM ends or {@code timeout} passes. */
    boolean awaitConsole(String marker, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (consoleText().contains(marker)) {
                return true;
            }
            if (!"running".equals(manager.status().get("state"))) {
                return consoleText().contains(marker);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return false;
    }

    String emulatorLog() throws IOException {
        Path log = vmDir.resolve(VmManager.EMULATOR_LOG);
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        try {
            manager.stop();
            manager.close();
        } finally {
            http.stop(0);
            listener.close();
            stack.close();
            Method deactivate = DnsServer.class.getDeclaredMethod("deactivate");
            deactivate.setAccessible(true);
            deactivate.invoke(dns);
            TestRoot.delete(root);
        }
    }

    /** An instance of a configuration annotation holding its declared defaults, as ConfigAdmin would. */
    @SuppressWarnings("unchecked")
    static <A> A defaults(Class<A> type) {
        return (A) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            Object value = method.getDefaultValue();
            if (value != null) {
                return value;
            }
            return switch (method.getName()) {
                case "annotationType" -> type;
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                case "toString" -> type.getSimpleName() + " defaults";
                default -> throw new IllegalStateException(method + " has no default");
            };
        });
    }

    static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }
}

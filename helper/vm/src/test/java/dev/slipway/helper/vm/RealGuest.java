package dev.slipway.helper.vm;

import java.io.IOException;
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
import dev.slipway.testing.GuestImage;

/**
 * One real guest for tests and the benchmark: Slipway's stack and DNS server in this JVM serving
 * the QEMU stream socket at {@code home/.slipway/run/vm.sock}, an HTTP server on the host's
 * 127.0.0.1, and the VM manager booting Debian's kernel with an initramfs built here whose init
 * script is the caller's.
 */
final class RealGuest implements AutoCloseable {

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
        GuestImage image = GuestImage.busybox(kernel,
                GuestImage.prologue() + init.replace("@HTTP_PORT@", Integer.toString(http.getAddress().getPort())));
        extraFiles.accept(image);
        image.writeCpio(initrd);
        var settings = new VmManager.Settings(vmDir, Optional.of(kernel.image()), Optional.of(initrd),
                ("console=ttyS0 quiet panic=-1 " + extraCmdline).strip(), memoryMb, 1, 64L << 20, "auto", ".slipway/run/vm.sock", "root",
                Optional.empty(), List.of(), Optional.of(EMULATOR_USER));
        AccountDirectory accounts = new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(home); }
        };
        manager = new VmManager(settings, new QemuBackend(GuestImage.EMULATOR, Path.of("/dev/kvm"),
                System.getProperty("user.name").equals("root")), accounts, p -> { });
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
}

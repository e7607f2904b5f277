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

import org.osgi.framework.BundleContext;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.dns.api.DnsService;
import dev.slipway.dns.server.DnsConfig;
import dev.slipway.dns.server.DnsServer;
import dev.slipway.dns.server.DnsStats;
import dev.slipway.helper.server.Helper;
import dev.slipway.helperclient.SocketHelperClient;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.component.NetworkService;
import dev.slipway.testing.GuestImage;

/**
 * One real guest for tests and the benchmark: Slipway's network component and DNS server in this
 * JVM (the runtime's part: the QEMU stream socket at {@code home/.slipway/run/vm.sock} and the news
 * socket beside it), the helper's protocol on its own socket with the VM operations, an HTTP server
 * on the host's 127.0.0.1, and the VM manager booting Debian's kernel with an initramfs built here
 * whose init script is the caller's. The network component gets the VM's network card from the
 * helper ({@code vm.attach-network}), as the runtime does; {@link #restartRuntime()} replaces it.
 */
final class RealGuest implements AutoCloseable {

    /** The emulator's account when the tests run as root (as the helper does): vm-user. */
    static final String EMULATOR_USER = "nobody";

    final Path root;
    final Path home;
    private volatile NetworkService network;
    final DnsServer dns;
    final Path run;
    final Helper helper;
    final HelperClient helperClient;
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
        run = TestRoot.dir(root, "home/.slipway/run");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
        vmDir = root.resolve("vm");

        dns = new DnsServer(new DnsStats(), defaults(DnsConfig.class));
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        http.createContext("/", ex -> {
            statusDuringRequest = stack().status();
            requests.incrementAndGet();
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
        Path helperSocket = TestRoot.dir(root, "helper").resolve("helper.sock");
        String group = Files.readAttributes(root, java.nio.file.attribute.PosixFileAttributes.class).group().getName();
        helper = new Helper(new Helper.Config(helperSocket, group, Optional.empty(), root.resolve("audit.log"), "test",
                new Helper.Limits(16, 4, Duration.ofSeconds(20))), accounts, java.time.Clock.systemUTC());
        VmOperations operations = new VmOperations(manager);
        for (String op : List.of(HelperSchema.VM_STATUS, HelperSchema.VM_ATTACH_NETWORK)) {
            helper.register(op, operations);
        }
        helper.start();
        helperClient = new SocketHelperClient(helperSocket, Duration.ofSeconds(20));
        network = startRuntime();
    }

    final java.util.concurrent.atomic.AtomicInteger requests = new java.util.concurrent.atomic.AtomicInteger();

    NetStack stack() {
        return network.stack();
    }

    NetworkService network() {
        return network;
    }

    /** The runtime's network part: the network component on the run directory's sockets, with DNS and the helper bound. */
    private NetworkService startRuntime() throws IOException {
        BundleContext context = (BundleContext) Proxy.newProxyInstance(RealGuest.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getProperty")) {
                        return null;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        NetworkService n = new NetworkService(context, Map.of("vmSocket", run.resolve("vm.sock").toString()));
        try {
            invoke(n, "bindDns", DnsService.class, dns);
            invoke(n, "bindHelper", HelperClient.class, helperClient);
        } catch (IOException e) {
            invoke(n, "deactivate", null, null);
            throw e;
        }
        return n;
    }

    /**
     * Stops the runtime's network component, as a runtime that ends does (its links close; the
     * emulator listens again), and starts a new one, which finds the helper and the running VM and
     * asks for the network card again.
     */
    void restartRuntime() throws IOException {
        stopRuntime();
        network = startRuntime();
    }

    /** Stops the runtime's network component only. */
    void stopRuntime() throws IOException {
        invoke(network, "deactivate", null, null);
    }

    private static void invoke(NetworkService n, String name, Class<?> type, Object argument) throws IOException {
        try {
            Method m = type == null ? NetworkService.class.getDeclaredMethod(name)
                    : NetworkService.class.getDeclaredMethod(name, type);
            m.setAccessible(true);
            if (type == null) {
                m.invoke(n);
            } else {
                m.invoke(n, argument);
            }
        } catch (ReflectiveOperationException e) {
            throw new IOException(name + " failed: " + e, e);
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
            stopRuntime();
            helper.close();
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

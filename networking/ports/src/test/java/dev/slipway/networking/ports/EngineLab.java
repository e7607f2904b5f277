package dev.slipway.networking.ports;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import com.sun.net.httpserver.HttpServer;

import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.dns.server.DnsConfig;
import dev.slipway.dns.server.DnsServer;
import dev.slipway.dns.server.DnsStats;
import dev.slipway.helper.vm.EngineVm;
import dev.slipway.networking.stack.component.NetworkService;
import dev.slipway.testing.Commands;

/**
 * Slipway's side of the engine guest, in this JVM, for the engine tests and bench/engine.sh: the
 * network component serving the VM socket, the DNS server, the port forwarder, the docker
 * integration (engine channel, docker.sock, the {@code slipway} context, automatic publishing), an
 * HTTP server on the host's 127.0.0.1, and the VM booted through the helper's VM manager.
 */
final class EngineLab implements AutoCloseable {
    static final String IMAGE = "slipway/busybox";

    final EngineVm vm;
    final Path dockerConfig;
    NetworkService network;
    DnsServer dns;
    PortForwarder forwarder;
    DockerIntegration docker;
    HttpServer http;

    /** Builds the image (cached by its inputs) where the emulator's account can read it; kernel and initrd. */
    static Path[] image() throws Exception {
        Path script = Path.of("../../guest/build-engine-image.sh").toAbsolutePath().normalize();
        Commands.Out out = Commands.run(Duration.ofMinutes(8), script.toString(), "--out", "/var/cache/slipway/engine-image");
        if (out.exit() != 0) {
            throw new IOException("building the engine image failed: " + out.stderr() + out.stdout());
        }
        Path dir = Path.of(out.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
        return new Path[] {dir.resolve("vmlinuz"), dir.resolve("initrd.img")};
    }

    EngineLab(String extraCmdline) throws Exception {
        Path[] image = image();
        vm = new EngineVm(image[0], image[1], ("console=ttyS0 quiet panic=-1 " + extraCmdline).strip(), 1536, 2);
        try {
            Map<String, Object> net = new HashMap<>();
            net.put("vmSocket", vm.run.resolve("vm.sock").toString());
            String mtu = System.getProperty("slipway.engine.mtu");
            if (mtu != null) {
                net.put("mtu", mtu); // the guest's lease carries it to eth0 and the engine's bridge
            }
            network = new NetworkService(Fakes.context(), net);
            dns = new DnsServer(new DnsStats(), defaults(DnsConfig.class));
            Method bindDns = NetworkService.class.getDeclaredMethod("bindDns", dev.slipway.dns.api.DnsService.class);
            bindDns.setAccessible(true);
            bindDns.invoke(network, dns);
            Method bindHelper = NetworkService.class.getDeclaredMethod("bindHelper", HelperClient.class);
            bindHelper.setAccessible(true);
            bindHelper.invoke(network, new AttachingHelper(vm));
            forwarder = new PortForwarder(Fakes.configAdmin(new HashMap<>()));
            forwarder.bindConnector(network);
            dockerConfig = Files.createDirectories(vm.root.resolve("docker-config"));
            Map<String, Object> p = new HashMap<>();
            p.put("socket", vm.run.resolve("docker.sock").toString());
            p.put("engineChannel", vm.run.resolve("engine.sock").toString());
            p.put("dockerConfig", dockerConfig.toString());
            docker = new DockerIntegration(Fakes.context(), p, forwarder);
            docker.bindHelper(new AttachingHelper(vm));
            http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            http.createContext("/", ex -> {
                byte[] body = "hello from the host\n".getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            http.start();
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** Boots the VM and waits for the engine and its channel; the seconds from start to ready. */
    double bootUntilReady(Duration timeout) throws Exception {
        long start = System.nanoTime();
        vm.boot();
        if (!vm.awaitConsole("SLIPWAY-ENGINE-READY", timeout)) {
            throw new IOException("the engine did not become ready:\n" + vm.console() + "\n" + vm.emulatorLog());
        }
        double ready = (System.nanoTime() - start) / 1e9;
        if (vm.console().contains("SLIPWAY-ENGINE-ERROR")) {
            throw new IOException("the engine guest reported an error:\n" + vm.console());
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!docker.engineAttached() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        if (!docker.engineAttached()) {
            throw new IOException("the engine channel did not attach");
        }
        return ready;
    }

    /** The real docker CLI with the {@code slipway} context. */
    Commands.Out docker(Duration timeout, String... args) throws Exception {
        String[] command = new String[args.length + 3];
        command[0] = "docker";
        command[1] = "--context";
        command[2] = "slipway";
        System.arraycopy(args, 0, command, 3, args.length);
        ProcessBuilder b = new ProcessBuilder(command);
        b.environment().put("DOCKER_CONFIG", dockerConfig.toString());
        b.environment().remove("DOCKER_HOST");
        b.environment().remove("DOCKER_CONTEXT");
        return Commands.run(timeout, b);
    }

    @Override
    public void close() throws Exception {
        try {
            if (docker != null) {
                docker.deactivate();
            }
            if (http != null) {
                http.stop(0);
            }
        } finally {
            try {
                // the guest's console outlives the test root, for whoever reads a failure
                Files.writeString(Path.of("target/engine-console.log"), vm.console());
            } catch (IOException e) {
                // the console is only for reading
            }
            try {
                vm.close();
            } finally {
                if (forwarder != null) {
                    forwarder.deactivate();
                }
                if (network != null) {
                    Fakes.stop(network);
                }
                if (dns != null) {
                    Method deactivate = DnsServer.class.getDeclaredMethod("deactivate");
                    deactivate.setAccessible(true);
                    deactivate.invoke(dns);
                }
            }
        }
    }

    /** The helper's {@code vm.attach-engine} and {@code vm.attach-network} for this JVM's VM manager; nothing else. */
    record AttachingHelper(EngineVm vm) implements HelperClient {
        @Override
        public Path socket() {
            return vm.run.resolve("helper.sock");
        }

        @Override
        public Map<String, Object> call(String operation, Map<String, String> params) throws HelperException {
            throw new HelperException(HelperErrors.UNAVAILABLE, operation + " is not served here");
        }

        @Override
        public DescriptorReply callForDescriptor(String operation, Map<String, String> params) throws HelperException {
            if (!operation.equals(HelperSchema.VM_ATTACH_ENGINE) && !operation.equals(HelperSchema.VM_ATTACH_NETWORK)) {
                return HelperClient.super.callForDescriptor(operation, params);
            }
            try {
                return new DescriptorReply(Map.of("attached", true),
                        operation.equals(HelperSchema.VM_ATTACH_ENGINE) ? vm.attachEngine() : vm.attachNetwork());
            } catch (HelperException e) {
                throw e;
            } catch (Exception e) {
                throw new HelperException(HelperErrors.FAILED, e.toString());
            }
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

package dev.slipway.networking.ports;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import dev.slipway.helper.server.Helper;
import dev.slipway.platform.linux.LinuxAccountDirectory;
import dev.slipway.helper.portsbind.PortsBindOperation;
import dev.slipway.process.ProcessCommandRunner;

/** The real helper serving ports.bind on a socket under {@code dir}, members of {@code group} allowed. */
final class TestHelper implements Closeable {
    final Path socket;
    final Path auditLog;
    private final Helper helper;

    TestHelper(Path dir, String group) throws IOException {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = run.resolve("helper.sock");
        auditLog = dir.resolve("audit.log");
        helper = new Helper(new Helper.Config(socket, group, Optional.empty(), auditLog, "test",
                new Helper.Limits(16, 2, Duration.ofSeconds(5))), new LinuxAccountDirectory(new ProcessCommandRunner()),
                Clock.systemUTC());
        helper.register("ports.bind", new PortsBindOperation(key -> Optional.empty()));
        helper.start();
    }

    /** A TCP and UDP port below 1024 free on 127.0.0.1 (80 when free); this process must be root. */
    static int freePrivilegedPort() throws IOException {
        for (int port = 80; port > 0; port = port == 80 ? 1023 : port - 1) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                try (java.net.DatagramSocket d = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
                    return port;
                }
            } catch (IOException e) {
                // in use: try the next one
            }
        }
        throw new IOException("no free port below 1024");
    }

    @Override
    public void close() throws IOException {
        helper.close();
    }
}

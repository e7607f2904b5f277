package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import dev.slipway.testing.Commands;
import dev.slipway.testing.Prerequisites;

/**
 * The real docker CLI against an engine API in the guest namespace, through the published socket
 * and the {@code slipway} context. No engine runs in this sandbox, so the guest side is a
 * responder answering the engine API's {@code /_ping}, {@code /version} and {@code /info}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DockerIntegrationTest {
    static final String NS = "slw-test-docker";
    /** The guest side: the engine API's {@code /_ping}, {@code /version} and {@code /info} (also used by bench/docker-socket.sh). */
    static final String RESPONDER = readResponder();

    private static String readResponder() {
        try (var in = DockerIntegrationTest.class.getResourceAsStream("/engine-responder.py")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    GuestLab lab;
    PortForwarder forwarder;
    Process responder;
    Path home;
    String guest;

    @BeforeAll
    void start() throws Exception {
        Prerequisites.assumeNamespaces("ip", "busybox", "python3", "docker");
        lab = GuestLab.start(NS, "slwd0");
        guest = lab.guest;
        forwarder = lab.forwarder;
        responder = Commands.startInNs(NS, "python3", "-c", RESPONDER, "tcp", "2375");
        lab.awaitListening(2375);
        home = Files.createTempDirectory("slipway-docker-home");
    }

    @AfterAll
    void stop() throws Exception {
        Commands.stop(responder);
        if (lab != null) {
            lab.close();
        }
        if (home != null) {
            try (var walk = Files.walk(home)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private DockerIntegration integration(Path dockerConfig, Path socket, String guestEndpoint, boolean makeCurrent) throws IOException {
        Map<String, Object> p = new HashMap<>();
        p.put("guest", guestEndpoint);
        p.put("socket", socket.toString());
        p.put("dockerConfig", dockerConfig.toString());
        p.put("makeCurrent", Boolean.toString(makeCurrent));
        return new DockerIntegration(Fakes.context(), p, forwarder);
    }

    private Commands.Out docker(Path config, String... args) throws Exception {
        List<String> c = new ArrayList<>(List.of("docker", "--config", config.toString()));
        c.addAll(List.of(args));
        return Commands.run(Duration.ofSeconds(30), c.toArray(String[]::new));
    }

    @Test
    void theDockerCliReachesTheGuestEngineThroughTheSlipwayContextAndTheSocket() throws Exception {
        Path config = Files.createDirectories(home.resolve("ctx/.docker"));
        Path socket = home.resolve("ctx/.slipway/run/docker.sock");
        // the user's own context, current before Slipway starts
        Path mine = config.resolve("contexts/meta/" + DockerContext.directoryName("mine") + "/meta.json");
        Files.createDirectories(mine.getParent());
        byte[] mineBytes = "{\"Name\":\"mine\",\"Metadata\":{},\"Endpoints\":{\"docker\":{\"Host\":\"unix:///nowhere.sock\",\"SkipTLSVerify\":false}}}"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Files.write(mine, mineBytes);
        Files.writeString(config.resolve("config.json"), "{\"currentContext\":\"mine\",\"psFormat\":\"table {{.ID}}\"}");

        DockerIntegration docker = integration(config, socket, guest + ":2375", true);
        try {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            Commands.Out ls = docker(config, "context", "ls", "--format", "{{.Name}} {{.Current}} {{.DockerEndpoint}}");
            assertEquals(0, ls.exit(), ls.stderr());
            assertTrue(ls.stdout().contains("slipway true unix://" + socket), ls.stdout());
            assertTrue(ls.stdout().contains("mine false"), ls.stdout());

            Commands.Out version = docker(config, "--context", "slipway", "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}");
            assertEquals(0, version.exit(), version.stderr());
            assertEquals("20.10.24 1.41", version.stdout().strip());

            Commands.Out info = docker(config, "-H", "unix://" + socket, "info", "--format", "{{.ServerVersion}} {{.Name}}");
            assertEquals(0, info.exit(), info.stderr());
            assertEquals("20.10.24 slipway-guest", info.stdout().strip());

            assertEquals("export DOCKER_HOST=unix://" + socket + "\n", docker.execute(List.of()).out());
        } finally {
            docker.deactivate();
        }
        Commands.Out after = docker(config, "context", "ls", "--format", "{{.Name}} {{.Current}}");
        assertTrue(after.stdout().contains("mine true"), "down restores the previous current context: " + after.stdout());
        assertArrayEquals(mineBytes, Files.readAllBytes(mine), "the user's own context is never changed");
        assertTrue(Files.readString(config.resolve("config.json")).contains("\"psFormat\""), "the rest of config.json is kept");
        assertTrue(Files.notExists(socket), "the socket goes on down");
    }

    @Test
    void anUnreachableEngineGivesTheCliAClearError() throws Exception {
        Path config = Files.createDirectories(home.resolve("down/.docker"));
        Path socket = home.resolve("down/run/docker.sock");
        DockerIntegration docker = integration(config, socket, guest + ":2399", false);
        try {
            Commands.Out version = docker(config, "-H", "unix://" + socket, "version", "--format", "{{.Server.Version}}");
            assertNotEquals(0, version.exit());
            assertTrue(!version.stderr().isBlank(), "the CLI says why: " + version.stdout());
        } finally {
            docker.deactivate();
        }
    }

    @Test
    void aStaleSocketFromAKilledRuntimeIsReplacedAndALiveOneIsNot() throws Exception {
        Path config = Files.createDirectories(home.resolve("stale/.docker"));
        Path socket = home.resolve("stale/run/docker.sock");
        Files.createDirectories(socket.getParent());
        // a socket file nobody serves any more: bound and closed (the file stays, as after kill -9)
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(socket));
        dead.close();
        assertTrue(Files.exists(socket));
        DockerIntegration docker = integration(config, socket, guest + ":2375", false);
        try {
            Commands.Out version = docker(config, "-H", "unix://" + socket, "version", "--format", "{{.Server.Version}}");
            assertEquals(0, version.exit(), version.stderr());
        } finally {
            docker.deactivate();
        }
        Path live = home.resolve("stale/run/live.sock");
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(live));
            IOException e = assertThrows(IOException.class, () -> integration(config, live, guest + ":2375", false));
            assertTrue(e.getMessage().contains("another process is serving it"), e.getMessage());
        }
        Path file = home.resolve("stale/run/file.sock");
        Files.writeString(file, "not a socket");
        IOException e = assertThrows(IOException.class, () -> integration(config, file, guest + ":2375", false));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("not a socket", Files.readString(file), "a file in the way is left alone");
    }
}

package dev.slipway.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.osgi.framework.Bundle;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.control.ControlRoute;
import dev.slipway.api.control.StatusContributor;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlServerTest {

    @TempDir
    Path tmp;

    private Path runtimeDir;
    private Path socket;
    private FakeBundle systemBundle;
    private ControlServer server;

    @BeforeEach
    void start() throws Exception {
        runtimeDir = tmp.resolve("run");
        socket = runtimeDir.resolve(ControlServer.SOCKET_NAME);
        systemBundle = new FakeBundle(0, "org.apache.felix.framework", "7.0.5", Bundle.ACTIVE);
        server = startServer(runtimeDir);
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.deactivate();
        }
    }

    private ControlServer startServer(Path dir) throws Exception {
        FakeContext context = new FakeContext(systemBundle);
        context.properties.put("slipway.runtime.dir", dir.toString());
        ControlServer started = new ControlServer(context.context());
        started.awaitStart();
        return started;
    }

    private static <T> Map.Entry<Map<String, Object>, T> service(T service, Object... properties) {
        Map<String, Object> map = new java.util.HashMap<>();
        for (int i = 0; i < properties.length; i += 2) {
            map.put((String) properties[i], properties[i + 1]);
        }
        return Map.entry(map, service);
    }

    private static Map.Entry<Map<String, Object>, ControlCommand> command(String name, ControlCommand command) {
        return service(command, ControlCommand.NAME, name);
    }

    private static final ControlCommand ECHO = args -> CommandResult.ok(String.join(" ", args));

    // --- the socket and its directory ---

    @Test
    void theSocketIsReadableAndWritableByTheOwnerAlone() throws IOException {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
    }

    @Test
    void theRuntimeDirectoryIsCreatedAccessibleToTheOwnerAlone() throws IOException {
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(runtimeDir)));
    }

    @Test
    void anExistingRuntimeDirectoryOpenToOthersIsRestrictedToTheOwner() throws Exception {
        Path open = Files.createDirectories(tmp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        ControlServer second = startServer(open);
        try {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(open)));
            assertEquals(200, UnixHttp.get(open.resolve(ControlServer.SOCKET_NAME), "/status").status());
        } finally {
            second.deactivate();
        }
    }

    @Test
    void deactivationStopsServingAndRemovesTheSocket() throws Exception {
        server.deactivate();
        server = null;
        assertFalse(Files.exists(socket));
    }

    @Test
    void aStaleSocketOfAPreviousRunIsReplaced() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("stale"));
        Path stale = dir.resolve(ControlServer.SOCKET_NAME);
        try (ServerSocketChannel previous = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            previous.bind(UnixDomainSocketAddress.of(stale)); // closing leaves the file behind, as a crash does
        }
        assertTrue(Files.exists(stale));
        ControlServer second = startServer(dir);
        try {
            assertEquals(200, UnixHttp.get(stale, "/status").status());
        } finally {
            second.deactivate();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"file", "directory", "symlink"})
    void somethingOtherThanASocketAtTheSocketPathIsNeverReplaced(String kind) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("taken-" + kind));
        Path taken = dir.resolve(ControlServer.SOCKET_NAME);
        switch (kind) {
            case "file" -> Files.writeString(taken, "precious");
            case "directory" -> Files.createDirectory(taken);
            default -> Files.createSymbolicLink(taken, Files.writeString(tmp.resolve("target-" + kind), "precious"));
        }
        IOException refused = assertThrows(IOException.class, () -> startServer(dir));
        assertTrue(refused.getMessage().contains("refusing to replace it"), refused.getMessage());
        assertTrue(Files.exists(taken, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        if (kind.equals("file")) {
            assertEquals("precious", Files.readString(taken));
        }
    }

    @Test
    void withoutTheRuntimeDirectoryPropertyTheServerDoesNotStart() {
        FakeContext context = new FakeContext(systemBundle);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new ControlServer(context.context()));
        assertTrue(e.getMessage().contains("slipway.runtime.dir"));
    }

    // --- status ---

    @Test
    void statusReportsTheRuntimeAndEveryContributedSection() throws IOException {
        server.contributors = List.of(
                service((StatusContributor) () -> Map.of("ok", true), StatusContributor.KEY, "net"),
                service((StatusContributor) () -> "shadow", StatusContributor.KEY, "ready"),
                service((StatusContributor) () -> "anonymous"));
        UnixHttp.Reply reply = UnixHttp.get(socket, "/status");
        assertEquals(200, reply.status());
        assertTrue(reply.contentType().startsWith("application/json"), reply.contentType());
        JsonObject status = reply.json().getAsJsonObject();
        assertEquals(ProcessHandle.current().pid(), status.get("pid").getAsLong());
        assertFalse(status.get("ready").getAsBoolean(), "no component runtime is bound, so nothing is ready");
        JsonArray bundles = status.getAsJsonArray("bundles");
        assertEquals(1, bundles.size());
        assertEquals("org.apache.felix.framework", bundles.get(0).getAsJsonObject().get("symbolicName").getAsString());
        assertTrue(status.getAsJsonObject("net").get("ok").getAsBoolean());
        assertEquals(List.of("ready", "uptimeMs", "pid", "java", "memory", "bundles", "components", "net"),
                new ArrayList<>(status.keySet()), "a section may not replace a built-in key, and one without a key is left out");
    }

    @Test
    void aFailingStatusSectionReportsItsErrorAndTheRestStillAnswers() throws IOException {
        server.contributors = List.of(
                service((StatusContributor) () -> {
                    throw new IllegalStateException("broken section");
                }, StatusContributor.KEY, "vm"),
                service((StatusContributor) () -> 42, StatusContributor.KEY, "dns"));
        JsonObject status = UnixHttp.get(socket, "/status").json().getAsJsonObject();
        assertEquals("java.lang.IllegalStateException: broken section", status.getAsJsonObject("vm").get("error").getAsString());
        assertEquals(42, status.get("dns").getAsInt());
    }

    // --- commands ---

    @Test
    void theCommandListHasEveryNameWithItsSummary() throws IOException {
        server.commands = List.of(service(ECHO, ControlCommand.NAME, "echo", ControlCommand.SUMMARY, "say it back"),
                command("quiet", ECHO));
        JsonArray list = UnixHttp.get(socket, "/commands").json().getAsJsonArray();
        assertEquals("[{\"name\":\"echo\",\"summary\":\"say it back\"},{\"name\":\"quiet\",\"summary\":\"\"}]", list.toString());
    }

    @Test
    void aCommandRunsWithItsArgumentsAndAnswersWithOutputErrorAndExitCode() throws IOException {
        AtomicReference<List<String>> received = new AtomicReference<>();
        server.commands = List.of(command("dns", args -> {
            received.set(args);
            return new CommandResult("resolved\n", "warning\n", 3);
        }));
        UnixHttp.Reply reply = UnixHttp.post(socket, "/commands/dns", "{\"args\":[\"lookup\",\"example.test\",\"ünïcode\"]}");
        assertEquals(200, reply.status());
        assertEquals(List.of("lookup", "example.test", "ünïcode"), received.get());
        assertEquals("{\"out\":\"resolved\\n\",\"err\":\"warning\\n\",\"exitCode\":3}", reply.body());
    }

    @Test
    void aCommandWithoutABodyRunsWithoutArguments() throws IOException {
        AtomicReference<List<String>> received = new AtomicReference<>();
        server.commands = List.of(command("ping", args -> {
            received.set(args);
            return CommandResult.ok("pong");
        }));
        assertEquals(200, UnixHttp.post(socket, "/commands/ping", "").status());
        assertEquals(List.of(), received.get());
        assertEquals(200, UnixHttp.post(socket, "/commands/ping", "{}").status());
        assertEquals(List.of(), received.get());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"args\":[\"a\"", "not json at all", "{\"args\":\"one\"}", "{\"args\":null}",
            "{\"args\":{\"a\":1}}", "{\"args\":[{\"nested\":true}]}", "{\"args\":[null]}"})
    void aBodyThatIsNotAnArgumentListIsABadRequestAndRunsNothing(String body) throws IOException {
        AtomicInteger runs = new AtomicInteger();
        server.commands = List.of(command("echo", args -> {
            runs.incrementAndGet();
            return CommandResult.ok("");
        }));
        UnixHttp.Reply reply = UnixHttp.post(socket, "/commands/echo", body);
        assertEquals(400, reply.status(), reply.body());
        assertTrue(reply.json().getAsJsonObject().get("error").getAsString().startsWith("the body must be {\"args\":[\"...\"]}"),
                reply.body());
        assertEquals(0, runs.get());
    }

    @Test
    void anUnknownCommandIsNotFound() throws IOException {
        server.commands = List.of(command("echo", ECHO));
        UnixHttp.Reply reply = UnixHttp.post(socket, "/commands/ehco", "{\"args\":[]}");
        assertEquals(404, reply.status());
        assertEquals("unknown command: ehco", reply.json().getAsJsonObject().get("error").getAsString());
    }

    @Test
    void aCommandThatThrowsIsAFailedCommandNotAServerError() throws IOException {
        server.commands = List.of(command("vm", args -> {
            throw new IOException("the VM is gone");
        }));
        UnixHttp.Reply reply = UnixHttp.post(socket, "/commands/vm", "{\"args\":[\"start\"]}");
        assertEquals(200, reply.status());
        JsonObject result = reply.json().getAsJsonObject();
        assertEquals(1, result.get("exitCode").getAsInt());
        assertEquals("vm: java.io.IOException: the VM is gone", result.get("err").getAsString());
        assertEquals("", result.get("out").getAsString());
    }

    @Test
    void commandsRegisteredWhileServingAreFoundAtOnceAndRemovedOnesAreGone() throws IOException {
        assertEquals(404, UnixHttp.post(socket, "/commands/echo", "{\"args\":[\"x\"]}").status());
        server.commands = List.of(command("echo", ECHO));
        assertEquals("x", UnixHttp.post(socket, "/commands/echo", "{\"args\":[\"x\"]}").json().getAsJsonObject().get("out").getAsString());
        server.commands = List.of();
        assertEquals(404, UnixHttp.post(socket, "/commands/echo", "{\"args\":[\"x\"]}").status());
    }

    @Test
    void concurrentCommandsEachGetTheirOwnAnswer() throws Exception {
        server.commands = List.of(command("echo", ECHO));
        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                String word = "client-" + i;
                calls.add(() -> word.equals(UnixHttp.post(socket, "/commands/echo", "{\"args\":[\"" + word + "\"]}")
                        .json().getAsJsonObject().get("out").getAsString()));
            }
            for (Future<Boolean> answer : clients.invokeAll(calls)) {
                assertTrue(answer.get());
            }
        } finally {
            clients.shutdownNow();
        }
    }

    // --- bodies ---

    @Test
    void aBodyOfExactlyTheLimitIsAccepted() throws IOException {
        server.commands = List.of(command("size", args -> CommandResult.ok(String.valueOf(args.get(0).length()))));
        String prefix = "{\"args\":[\"";
        String suffix = "\"]}";
        String body = prefix + "x".repeat(ControlServer.MAX_BODY - prefix.length() - suffix.length()) + suffix;
        UnixHttp.Reply reply = UnixHttp.post(socket, "/commands/size", body);
        assertEquals(200, reply.status());
        assertEquals(String.valueOf(ControlServer.MAX_BODY - prefix.length() - suffix.length()),
                reply.json().getAsJsonObject().get("out").getAsString());
    }

    @Test
    void aDeclaredBodyOverTheLimitIsRefusedBeforeItIsRead() throws IOException {
        AtomicInteger runs = new AtomicInteger();
        server.commands = List.of(command("echo", args -> {
            runs.incrementAndGet();
            return CommandResult.ok("");
        }));
        UnixHttp.Reply reply = UnixHttp.exchange(socket, channel -> UnixHttp.write(channel, ("POST /commands/echo HTTP/1.1\r\n"
                + "Host: slipway\r\nConnection: close\r\nContent-Length: " + (ControlServer.MAX_BODY + 1) + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII)));
        assertEquals(413, reply.status());
        assertEquals("request body larger than 1048576 bytes", reply.json().getAsJsonObject().get("error").getAsString());
        assertEquals(0, runs.get());
    }

    @Test
    void aChunkedBodyOverTheLimitIsRefusedAsSoonAsItPassesTheLimit() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        server.commands = List.of(command("echo", args -> {
            runs.incrementAndGet();
            return CommandResult.ok("");
        }));
        CountDownLatch answered = new CountDownLatch(1);
        AtomicReference<Boolean> answeredBeforeTheEnd = new AtomicReference<>();
        UnixHttp.Reply reply = UnixHttp.exchange(socket, channel -> {
            UnixHttp.write(channel, "POST /commands/echo HTTP/1.1\r\nHost: slipway\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            Arrays.fill(chunk, (byte) 'x');
            try {
                for (int i = 0; i < 17; i++) { // 17 × 64 KiB: one chunk more than the limit
                    UnixHttp.write(channel, (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    UnixHttp.write(channel, chunk);
                    UnixHttp.write(channel, "\r\n".getBytes(StandardCharsets.US_ASCII));
                }
            } finally {
                // the body's end is held back: a server that reads to the end before it answers never answers here
                try {
                    answeredBeforeTheEnd.set(answered.await(10, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            UnixHttp.write(channel, "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }, answered);
        assertEquals(413, reply.status(), reply.body());
        assertEquals("request body larger than 1048576 bytes", reply.json().getAsJsonObject().get("error").getAsString());
        assertTrue(answeredBeforeTheEnd.get(), "the server answered before the body ended");
        assertEquals(0, runs.get());
    }

    // --- routes, unknown endpoints, shutdown ---

    @Test
    void aRouteGetsMethodQueryAndBodyAndAnswersWithItsOwnStatusAndType() throws IOException {
        AtomicReference<ControlRoute.Request> received = new AtomicReference<>();
        ControlRoute route = request -> {
            received.set(request);
            return new ControlRoute.Response(201, "text/plain", "exposed".getBytes(StandardCharsets.UTF_8));
        };
        server.routes = List.of(service(route, ControlRoute.PATH, "/services/forwarder/expose"));
        UnixHttp.Reply reply = UnixHttp.post(socket, "/services/forwarder/expose?protocol=tcp&local=%3A8080", "{\"remote\":\"x\"}");
        assertEquals(201, reply.status());
        assertTrue(reply.contentType().startsWith("text/plain"), reply.contentType());
        assertEquals("exposed", reply.body());
        assertEquals("POST", received.get().method());
        assertEquals(Map.of("protocol", "tcp", "local", ":8080"), received.get().query());
        assertEquals("{\"remote\":\"x\"}", new String(received.get().body(), StandardCharsets.UTF_8));
    }

    @Test
    void aRouteServesOnlyItsExactPath() throws IOException {
        server.routes = List.of(service((ControlRoute) request -> new ControlRoute.Response(200, "text/plain", new byte[0]),
                ControlRoute.PATH, "/services/forwarder/all"));
        assertEquals(404, UnixHttp.get(socket, "/services/forwarder/all/more").status());
        assertEquals(404, UnixHttp.get(socket, "/services/forwarder").status());
    }

    @Test
    void aRouteThatThrowsIsAServerErrorInJson() throws IOException {
        server.routes = List.of(service((ControlRoute) request -> {
            throw new IOException("forwarder down");
        }, ControlRoute.PATH, "/services/forwarder/all"));
        UnixHttp.Reply reply = UnixHttp.get(socket, "/services/forwarder/all");
        assertEquals(500, reply.status());
        assertTrue(reply.contentType().startsWith("application/json"), reply.contentType());
        assertEquals("java.io.IOException: forwarder down", reply.json().getAsJsonObject().get("error").getAsString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET /nowhere", "DELETE /status", "GET /commands/echo", "POST /commands", "GET /shutdown", "POST /status"})
    void anUnknownEndpointOrMethodIsNotFound(String request) throws IOException {
        String[] parts = request.split(" ");
        UnixHttp.Reply reply = UnixHttp.send(socket, parts[0], parts[1], parts[0].equals("POST") ? "{}" : null);
        assertEquals(404, reply.status());
        assertEquals("no such endpoint: " + request, reply.json().getAsJsonObject().get("error").getAsString());
        assertEquals(1, systemBundle.stopped.getCount(), "nothing stopped the framework");
    }

    @Test
    void shutdownAnswersAtOnceAndStopsTheFrameworkOnAnotherThread() throws Exception {
        UnixHttp.Reply reply = UnixHttp.post(socket, "/shutdown", "{}");
        assertEquals(202, reply.status());
        assertEquals("{\"stopping\":true}", reply.body());
        assertTrue(systemBundle.stopped.await(10, TimeUnit.SECONDS), "the system bundle was stopped");
    }
}

package dev.slipway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlClientTest {

    @TempDir
    Path tmp;

    private Path socket;
    private ControlClient client;

    @BeforeEach
    void setUp() {
        socket = tmp.resolve("run/control.sock");
        client = new ControlClient(socket, Duration.ofSeconds(10));
    }

    @AfterEach
    void tearDown() {
        client.close();
    }

    /** A socket file nobody accepts on, as a runtime that died leaves it. */
    private void staleSocket() throws IOException {
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket));
        }
    }

    @Test
    void nothingIsAcceptingWithoutASocketFileOrOnAStaleOne() throws Exception {
        assertFalse(client.accepting());
        staleSocket();
        assertFalse(client.accepting());
    }

    @Test
    void aListeningRuntimeIsAccepting() throws Exception {
        try (FakeRuntime runtime = FakeRuntime.serve(socket, request -> FakeRuntime.Reply.json(200, "{}"))) {
            assertTrue(client.accepting());
        }
    }

    @Test
    void withoutASocketFileTheRuntimeIsNotRunning() {
        ControlClient.NotRunningException e = assertThrows(ControlClient.NotRunningException.class, () -> client.get("/status"));
        assertEquals("no control socket at " + socket, e.getMessage());
    }

    @Test
    void aStaleSocketMeansTheRuntimeIsNotRunning() throws Exception {
        staleSocket();
        ControlClient.NotRunningException e = assertThrows(ControlClient.NotRunningException.class, () -> client.status());
        assertEquals("nothing accepts on " + socket, e.getMessage());
    }

    @Test
    void getAnswersWithTheStatusCodeAndTheParsedBody() throws Exception {
        try (FakeRuntime runtime = FakeRuntime.serve(socket, request -> FakeRuntime.Reply.json(207, "{\"ready\":true,\"pid\":7}"))) {
            ControlClient.Answer answer = client.get("/status?verbose=1");
            assertEquals(207, answer.status());
            assertEquals(JsonParser.parseString("{\"ready\":true,\"pid\":7}"), answer.body());
            assertEquals("GET", runtime.requests.get(0).method());
            assertEquals("/status?verbose=1", runtime.requests.get(0).path());
        }
    }

    @Test
    void anEmptyBodyIsAnEmptyObject() throws Exception {
        try (FakeRuntime runtime = FakeRuntime.serve(socket, request -> FakeRuntime.Reply.json(204, ""))) {
            assertEquals(new JsonObject(), client.get("/anything").body());
        }
    }

    @Test
    void aCommandIsPostedAsItsArgumentListInJson() throws Exception {
        try (FakeRuntime runtime = FakeRuntime.serve(socket, request -> FakeRuntime.Reply.json(200, "{\"out\":\"\",\"err\":\"\",\"exitCode\":0}"))) {
            client.command("dns", List.of("lookup", "a \"quoted\" name", "ünï"));
            FakeRuntime.Request request = runtime.requests.get(0);
            assertEquals("POST", request.method());
            assertEquals("/commands/dns", request.path());
            assertTrue(request.headers().get("content-type").startsWith("application/json"), request.headers().toString());
            assertEquals(JsonParser.parseString("{\"args\":[\"lookup\",\"a \\\"quoted\\\" name\",\"ünï\"]}"),
                    JsonParser.parseString(request.body()));
        }
    }

    @Test
    void anAnswerThatIsNotJsonIsAnIoErrorThatSaysSo() throws Exception {
        try (FakeRuntime runtime = FakeRuntime.serve(socket,
                request -> new FakeRuntime.Reply(500, "text/html", "<html><body>Server Error</body></html>"))) {
            IOException e = assertThrows(IOException.class, () -> client.post("/shutdown", Map.of()));
            assertFalse(e instanceof ControlClient.NotRunningException);
            assertTrue(e.getMessage().startsWith("the control API answered 500 with something that is not JSON: <html>"), e.getMessage());
        }
    }

    @Test
    void aRuntimeThatHangsUpWithoutAnAnswerIsAnIoError() throws Exception {
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel rude = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            rude.bind(UnixDomainSocketAddress.of(socket));
            Thread hangUp = new Thread(() -> {
                for (int i = 0; i < 2; i++) { // accepting() connects once, then the request
                    try (SocketChannel c = rude.accept()) {
                        c.read(java.nio.ByteBuffer.allocate(16));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            hangUp.start();
            assertThrows(IOException.class, () -> client.get("/status"));
            hangUp.join(5000);
        }
    }

    @Test
    void oneClientServesConcurrentCalls() throws Exception {
        try (FakeRuntime runtime = FakeRuntime.serve(socket,
                request -> FakeRuntime.Reply.json(200, "{\"path\":\"" + request.path() + "\"}"))) {
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Callable<Boolean>> calls = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    String path = "/echo/" + i;
                    calls.add(() -> path.equals(client.get(path).body().getAsJsonObject().get("path").getAsString()));
                }
                for (Future<Boolean> call : callers.invokeAll(calls)) {
                    assertTrue(call.get());
                }
            } finally {
                callers.shutdownNow();
            }
            assertEquals(40, runtime.requests.size());
        }
    }

    @Test
    void warmingUpWithNothingListeningIsHarmless() {
        client.warmUp();
        assertFalse(client.accepting());
    }
}

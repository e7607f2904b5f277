package dev.slipway.helper.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSchema;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HelperProtocolTest {

    @TempDir
    Path dir;
    Helper helper;
    Path socket;

    @BeforeEach
    void start() throws IOException {
        helper = TestHelpers.start(dir);
        socket = dir.resolve("run/helper.sock");
    }

    @AfterEach
    void stop() throws IOException {
        helper.close();
    }

    private Map<String, Object> call(String json) throws IOException {
        try (WireClient client = new WireClient(socket)) {
            return client.call(json);
        }
    }

    /** The audit log once it contains {@code needle} (read-only operations are recorded just after their reply). */
    private String auditWith(String needle) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        String audit = Files.readString(dir.resolve("log/audit.log"));
        while (!audit.contains(needle) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            audit = Files.readString(dir.resolve("log/audit.log"));
        }
        return audit;
    }

    @Test
    void socketFileIsMode0660InTheConfiguredGroup() throws IOException {
        PosixFileAttributes attributes = Files.readAttributes(socket, PosixFileAttributes.class);
        assertEquals("rw-rw----", PosixFilePermissions.toString(attributes.permissions()));
        assertEquals(TestHelpers.ownGroup(dir), attributes.group().getName());
    }

    @Test
    void versionIsServedWithTheRequestIdEchoed() throws IOException {
        Map<String, Object> reply = call("{\"v\":1,\"id\":4711,\"op\":\"version\"}");
        assertEquals(Boolean.TRUE, reply.get("ok"), reply.toString());
        assertEquals(4711.0, reply.get("id"));
        assertEquals(1.0, ((Map<?, ?>) reply.get("result")).get("protocol"));
    }

    @Test
    void healthListsOnlyTheOperationsThatAreServed() throws IOException {
        Map<String, Object> reply = call("{\"v\":1,\"id\":1,\"op\":\"health\",\"params\":{}}");
        assertEquals(List.of("version", "health"), ((Map<?, ?>) reply.get("result")).get("operations"));
    }

    @Test
    void severalRequestsShareOneConnection() throws IOException {
        try (WireClient client = new WireClient(socket)) {
            for (int i = 1; i <= 20; i++) {
                assertEquals((double) i, client.call("{\"v\":1,\"id\":" + i + ",\"op\":\"health\"}").get("id"));
            }
        }
    }

    @Test
    void anUnknownOperationIsAnErrorAndTheConnectionStaysUsable() throws Exception {
        try (WireClient client = new WireClient(socket)) {
            assertEquals(HelperErrors.UNKNOWN_OPERATION, WireClient.errorCode(client.call("{\"v\":1,\"id\":1,\"op\":\"exec\"}")));
            assertEquals(Boolean.TRUE, client.call("{\"v\":1,\"id\":2,\"op\":\"version\"}").get("ok"));
        }
        assertTrue(auditWith("unknown-operation").contains("unknown-operation"));
    }

    @Test
    void anExtraFieldInTheEnvelopeIsRefused() throws IOException {
        assertEquals(HelperErrors.UNKNOWN_FIELD, WireClient.errorCode(call("{\"v\":1,\"id\":1,\"op\":\"version\",\"user\":\"root\"}")));
    }

    @Test
    void anExtraParameterIsRefused() throws IOException {
        assertEquals(HelperErrors.UNKNOWN_FIELD, WireClient.errorCode(call("{\"v\":1,\"id\":1,\"op\":\"hosts.ensure\",\"params\":{\"force\":true}}")));
    }

    @Test
    void aPathInAnyParameterIsRefusedAsAPath() throws IOException {
        for (String value : List.of("/etc/passwd", "..", "C:\\\\Windows", "~root", "system/../../tmp")) {
            Map<String, Object> reply = call("{\"v\":1,\"id\":1,\"op\":\"symlinks.install\",\"params\":{\"location\":\"" + value + "\"}}");
            assertEquals(HelperErrors.PATH_NOT_ALLOWED, WireClient.errorCode(reply), value);
        }
        assertEquals(HelperErrors.PATH_NOT_ALLOWED, WireClient.errorCode(
                call("{\"v\":1,\"id\":1,\"op\":\"hosts.ensure\",\"params\":{\"file\":\"/tmp/x\"}}")));
        assertEquals(HelperErrors.PATH_NOT_ALLOWED, WireClient.errorCode(call("{\"v\":1,\"id\":1,\"op\":\"/bin/sh\"}")));
    }

    @Test
    void theUserLocationIsNotAHelperOperation() throws IOException {
        Map<String, Object> reply = call("{\"v\":1,\"id\":1,\"op\":\"symlinks.install\",\"params\":{\"location\":\"user\"}}");
        assertEquals(HelperErrors.INVALID, WireClient.errorCode(reply));
    }

    @Test
    void aMissingRequiredParameterIsRefused() throws IOException {
        assertEquals(HelperErrors.INVALID, WireClient.errorCode(call("{\"v\":1,\"id\":1,\"op\":\"symlinks.install\"}")));
    }

    @Test
    void anotherProtocolVersionIsRefused() throws IOException {
        assertEquals(HelperErrors.UNSUPPORTED_VERSION, WireClient.errorCode(call("{\"v\":2,\"id\":1,\"op\":\"version\"}")));
    }

    @Test
    void anOperationInTheSchemaWithoutAHandlerIsUnavailable() throws IOException {
        assertEquals(HelperErrors.UNAVAILABLE, WireClient.errorCode(call("{\"v\":1,\"id\":1,\"op\":\"hosts.ensure\"}")));
    }

    @Test
    void aRegisteredHandlerIsDispatchedWithTheKernelReportedCaller() throws IOException {
        HelperCall[] seen = new HelperCall[1];
        HelperOperationHandler handler = call -> {
            seen[0] = call;
            return Map.of("done", true);
        };
        helper.register(HelperSchema.DOCKERSOCK_LINK, handler);
        assertEquals(Boolean.TRUE, call("{\"v\":1,\"id\":9,\"op\":\"dockersock.link\"}").get("ok"));
        assertEquals(System.getProperty("user.name"), seen[0].caller().user());
        String audit = Files.readString(dir.resolve("log/audit.log"));
        assertTrue(audit.contains("\"op\":\"dockersock.link\""), "a mutating operation is on record before its reply");
        assertTrue(audit.contains("\"result\":\"ok\""));
    }

    @Test
    void anOversizedMessageGetsAnErrorAndAClosedConnectionAndTheHelperKeepsServing() throws IOException {
        try (WireClient client = new WireClient(socket)) {
            client.sendRaw(ByteBuffer.allocate(4).putInt(64 * 1024 + 1).array());
            assertEquals(HelperErrors.OVERSIZED, WireClient.errorCode(client.reply()));
            assertTrue(client.closedByPeer());
        }
        try (WireClient client = new WireClient(socket)) {
            client.sendRaw(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            assertEquals(HelperErrors.OVERSIZED, WireClient.errorCode(client.reply()));
        }
        assertEquals(Boolean.TRUE, call("{\"v\":1,\"id\":1,\"op\":\"version\"}").get("ok"));
    }

    @Test
    void aMessageOfExactlyTheLimitIsRead() throws IOException {
        String padding = " ".repeat(64 * 1024 - "{\"v\":1,\"id\":1,\"op\":\"version\"}".length());
        assertEquals(Boolean.TRUE, call("{\"v\":1,\"id\":1,\"op\":\"version\"}" + padding).get("ok"));
    }

    @Test
    void aTruncatedMessageGetsAnErrorAndAClosedConnection() throws IOException {
        try (WireClient client = new WireClient(socket)) {
            byte[] frame = WireClient.frame("{\"v\":1,\"id\":1,\"op\":\"version\"}");
            client.sendRaw(java.util.Arrays.copyOf(frame, frame.length - 5));
            client.shutdownOutput();
            assertEquals(HelperErrors.TRUNCATED, WireClient.errorCode(client.reply()));
            assertTrue(client.closedByPeer());
        }
        assertEquals(Boolean.TRUE, call("{\"v\":1,\"id\":2,\"op\":\"version\"}").get("ok"));
    }

    @Test
    void aStalledMessageIsCutOffAfterTheIdleTimeout() throws IOException {
        try (WireClient client = new WireClient(socket)) {
            client.sendRaw(new byte[] {0, 0, 1, 0, '{'});
            long started = System.nanoTime();
            assertEquals(HelperErrors.TRUNCATED, WireClient.errorCode(client.reply()));
            assertTrue(System.nanoTime() - started < 5_000_000_000L);
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void garbageGetsAnErrorAndAClosedConnection() throws IOException {
        for (byte[] garbage : List.of("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                WireClient.frame("not json at all"), WireClient.frame("[1,2,3]"),
                WireClient.frame("{\"v\":1,\"id\":1,\"op\":\"version\"} trailing"),
                WireClient.frame("{'v':1,'id':1,'op':'version'}"),
                new byte[] {0, 0, 0, 2, (byte) 0xc3, (byte) 0x28})) {
            try (WireClient client = new WireClient(socket)) {
                client.sendRaw(garbage);
                Map<String, Object> reply = client.reply();
                String code = WireClient.errorCode(reply);
                assertTrue(HelperErrors.MALFORMED.equals(code) || HelperErrors.OVERSIZED.equals(code)
                        || HelperErrors.TRUNCATED.equals(code), String.valueOf(reply));
                assertTrue(client.closedByPeer());
            }
        }
        assertEquals(Boolean.TRUE, call("{\"v\":1,\"id\":1,\"op\":\"version\"}").get("ok"));
    }

    @Test
    void aDuplicateKeyIsMalformedNotLastWins() throws IOException {
        try (WireClient client = new WireClient(socket)) {
            Map<String, Object> reply = client.call("{\"v\":1,\"id\":1,\"op\":\"version\",\"op\":\"uninstall\"}");
            assertEquals(HelperErrors.MALFORMED, WireClient.errorCode(reply));
            assertTrue(client.closedByPeer());
        }
    }

    @Test
    void anEmptyMessageIsMalformed() throws IOException {
        try (WireClient client = new WireClient(socket)) {
            client.sendRaw(new byte[4]);
            assertEquals(HelperErrors.MALFORMED, WireClient.errorCode(client.reply()));
        }
    }

    @Test
    void controlCharactersInAnUnknownOperationAreNotEchoedRaw() throws Exception {
        Map<String, Object> reply = call("{\"v\":1,\"id\":1,\"op\":\"x\\ninjected\"}");
        String message = (String) ((Map<?, ?>) reply.get("error")).get("message");
        assertTrue(!message.contains("\n"), message);
        assertTrue(auditWith("injected").lines().allMatch(line -> line.startsWith("{") && line.endsWith("}")));
    }

    @Test
    void theSocketIsRemovedOnClose() throws IOException {
        helper.close();
        assertTrue(!Files.exists(socket));
        helper = TestHelpers.start(dir);
        assertNotNull(call("{\"v\":1,\"id\":1,\"op\":\"version\"}"));
    }

    @Test
    void aNonSocketAtTheSocketPathIsNotReplaced() throws IOException {
        helper.close();
        Files.writeString(socket, "precious");
        try {
            TestHelpers.start(dir).close();
            throw new AssertionError("started over a regular file");
        } catch (IOException expected) {
            assertTrue(expected.getMessage().contains("not a socket"), expected.getMessage());
        }
        assertEquals("precious", Files.readString(socket));
        Files.delete(socket);
        helper = TestHelpers.start(dir);
        assertNull(WireClient.errorCode(call("{\"v\":1,\"id\":1,\"op\":\"version\"}")));
    }
}

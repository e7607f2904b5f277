package dev.slipway.helper.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;

/** A member floods the helper with refused requests to push earlier records out of the audit log. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AuditFloodTest {

    private static final int FLOOD = 10_000;

    @TempDir
    Path dir;

    @Test
    void tenThousandRefusedPolicyStoresKeepTheDaysFirstRecordAndNoDocument() throws Exception {
        byte[] document = new byte[3 * 1024];
        new Random(42).nextBytes(document);
        // no slash: a value that looks like a path is refused before any handler sees it
        String base64 = Base64.getEncoder().encodeToString(document).replace('/', '+');
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Base64.getDecoder().decode(base64)));
        try (Helper helper = TestHelpers.start(dir)) {
            helper.register(HelperSchema.POLICY_STORE, call -> {
                throw new HelperException(HelperErrors.INVALID, "refused: the signature does not match the policy key; nothing was stored");
            });
            try (WireClient client = new WireClient(dir.resolve("run/helper.sock"))) {
                assertEquals(Boolean.TRUE, client.call("{\"v\":1,\"id\":1,\"op\":\"version\"}").get("ok"));
                for (int id = 2; id <= FLOOD + 1; id++) {
                    Map<String, Object> reply = client.call("{\"v\":1,\"id\":" + id + ",\"op\":\"policy.store\",\"params\":{\"policy\":\"registry-access\",\"document\":\""
                            + base64 + "\"}}");
                    assertEquals(HelperErrors.INVALID, WireClient.errorCode(reply));
                }
            }
        }
        List<Path> files = auditFiles();
        long total = 0;
        StringBuilder all = new StringBuilder();
        for (Path f : files) {
            total += Files.size(f);
            all.append(Files.readString(f));
        }
        String audit = all.toString();
        assertTrue(audit.contains("\"op\":\"version\""), "the first record of the day is still on record");
        assertTrue(audit.contains("\"id\":" + (FLOOD + 1) + ","), "so is the last");
        assertFalse(audit.contains(base64), "documents are never written to the audit log");
        assertTrue(audit.contains(digest), "their SHA-256 is, of the decoded bytes as stored");
        assertTrue(total <= Helper.AuditRotation.DEFAULT.bound(), "the log is bounded: " + total + " bytes in " + files);
    }

    @Test
    void rotationKeepsTheConfiguredNumberOfFilesEachBelowItsSize() throws IOException {
        Path log = dir.resolve("log/audit.log");
        Helper.AuditRotation rotation = new Helper.AuditRotation(4096, 3);
        try (AuditLog audit = new AuditLog(log, new Replies(), java.time.Clock.systemUTC(), rotation)) {
            for (int i = 0; i < 1000; i++) {
                audit.operation(new dev.slipway.api.helper.HelperCall.Caller("dev", "users"), i, "hosts.ensure", Map.of(), "ok", null, 1);
            }
        }
        List<Path> files = auditFiles();
        assertEquals(List.of("audit.log", "audit.log.1", "audit.log.2"), files.stream().map(p -> p.getFileName().toString()).toList());
        for (Path f : files) {
            assertTrue(Files.size(f) <= 4096, f + " has " + Files.size(f) + " bytes");
        }
        assertTrue(Files.readString(log).contains("\"id\":999,"), "the newest record is in the current file");
    }

    private List<Path> auditFiles() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("log"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("audit.log")).sorted().toList();
        }
    }
}

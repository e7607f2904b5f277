package dev.slipway.helper.server;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperSchema;

/**
 * Append-only record of every connection refusal, protocol error and operation (who, what,
 * result), one JSON object per line. The file is created 0640 and never followed through a
 * symlink; past {@link Helper.AuditRotation#fileBytes()} it is rotated to {@code .1}, {@code .1} to
 * {@code .2} and so on, keeping {@link Helper.AuditRotation#files()} files in all.
 *
 * <p>Every record is small whatever a caller sends: a policy document or any long parameter is
 * recorded by its size and SHA-256, never itself, and long messages are cut. So a member who floods
 * the helper with refused requests needs hundreds of thousands of them to push the day's first
 * records out, instead of a few thousand documents. Refusals of foreign connections are also rate
 * limited; the number suppressed is recorded.
 */
final class AuditLog implements Closeable {

    /** Parameter values longer than this are recorded by size and digest. */
    static final int MAX_PARAM_CHARS = 128;
    /** Messages and details longer than this are cut. */
    static final int MAX_MESSAGE_CHARS = 512;
    static final int REFUSALS_PER_WINDOW = 100;
    static final long WINDOW_MILLIS = 10_000;

    private final Path file;
    private final Replies json;
    private final Clock clock;
    private final Helper.AuditRotation rotation;
    private final Logger log = LoggerFactory.getLogger(AuditLog.class);

    private FileChannel channel;
    private boolean healthy = true;
    private long windowStart;
    private int refusalsInWindow;
    private int suppressed;

    AuditLog(Path file, Replies json, Clock clock, Helper.AuditRotation rotation) throws IOException {
        this.file = file;
        this.json = json;
        this.clock = clock;
        this.rotation = rotation;
        Files.createDirectories(file.getParent());
        channel = open();
    }

    private FileChannel open() throws IOException {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
            } catch (FileAlreadyExistsException raced) {
                // another writer created it first; the NOFOLLOW open below still checks it
            } catch (UnsupportedOperationException noPosix) {
                Files.createFile(file);
            }
        }
        return FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
    }

    /** Whether the last write succeeded; mutating operations are refused while it did not. */
    synchronized boolean healthy() {
        return healthy;
    }

    synchronized void refused(Caller peer, String reason) {
        long now = clock.millis();
        if (now - windowStart > WINDOW_MILLIS) {
            if (suppressed > 0) {
                write(record("refusals-suppressed", null, Map.of("count", suppressed)));
            }
            windowStart = now;
            refusalsInWindow = 0;
            suppressed = 0;
        }
        if (++refusalsInWindow > REFUSALS_PER_WINDOW) {
            suppressed++;
            return;
        }
        write(record("refused", peer, Map.of("reason", bounded(reason))));
    }

    synchronized void protocolError(Caller peer, String code, String message) {
        write(record("protocol-error", peer, Map.of("code", code, "message", bounded(message))));
    }

    synchronized void operation(Caller peer, long id, String op, Map<String, Object> params, String result,
            String detail, long micros) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("id", id);
        fields.put("op", op);
        fields.put("params", recorded(params));
        fields.put("result", result);
        if (detail != null) {
            fields.put("detail", bounded(detail));
        }
        fields.put("micros", micros);
        write(record("operation", peer, fields));
    }

    /** The parameters as recorded: a document, or any value too long to read at a glance, by its size and SHA-256. */
    static Map<String, Object> recorded(Map<String, Object> params) {
        Map<String, Object> recorded = new LinkedHashMap<>();
        params.forEach((name, value) -> {
            if (name.equals(HelperSchema.PARAM_DOCUMENT) && value instanceof String base64) {
                recorded.put(name, digest(decoded(base64)));
            } else if (value instanceof String text && text.length() > MAX_PARAM_CHARS) {
                recorded.put(name, digest(text.getBytes(StandardCharsets.UTF_8)));
            } else {
                recorded.put(name, value);
            }
        });
        return recorded;
    }

    /** A document's digest is of its decoded bytes: it matches {@code sha256sum} of the stored file. */
    private static byte[] decoded(String base64) {
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException notBase64) {
            return base64.getBytes(StandardCharsets.UTF_8);
        }
    }

    private static Map<String, Object> digest(byte[] bytes) {
        try {
            byte[] sha256 = MessageDigest.getInstance("SHA-256").digest(bytes);
            Map<String, Object> digest = new LinkedHashMap<>();
            digest.put("bytes", bytes.length);
            digest.put("sha256", HexFormat.of().formatHex(sha256));
            return digest;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    static String bounded(String message) {
        if (message == null || message.length() <= MAX_MESSAGE_CHARS) {
            return message;
        }
        return message.substring(0, MAX_MESSAGE_CHARS) + "… (" + message.length() + " characters in all)";
    }

    private Map<String, Object> record(String event, Caller peer, Map<String, Object> fields) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("time", Instant.ofEpochMilli(clock.millis()).toString());
        record.put("event", event);
        if (peer != null) {
            record.put("user", peer.user());
            record.put("group", peer.group());
        }
        record.putAll(fields);
        return record;
    }

    private void write(Map<String, Object> record) {
        // Gson escapes control characters, so one record is always exactly one line.
        byte[] line = (json.json(record) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            if (channel.size() > 0 && channel.size() + line.length > rotation.fileBytes()) {
                rotate();
            }
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            healthy = true;
        } catch (IOException e) {
            healthy = false;
            log.error("cannot write the audit log " + file + ": " + e.getMessage());
        }
    }

    /** Drops the oldest file and shifts the others up by one: {@code .N-2} to {@code .N-1}, ..., the current one to {@code .1}. */
    private void rotate() throws IOException {
        channel.close();
        int oldest = rotation.files() - 1;
        Files.deleteIfExists(numbered(oldest));
        for (int i = oldest - 1; i >= 1; i--) {
            if (Files.exists(numbered(i), LinkOption.NOFOLLOW_LINKS)) {
                Files.move(numbered(i), numbered(i + 1), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (oldest >= 1) {
            Files.move(file, numbered(1), StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.delete(file);
        }
        channel = open();
    }

    private Path numbered(int n) {
        return n == 0 ? file : file.resolveSibling(file.getFileName() + "." + n);
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}

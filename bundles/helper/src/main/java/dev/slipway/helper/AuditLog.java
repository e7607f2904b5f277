package dev.slipway.helper;

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
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.slipway.api.helper.HelperCall.Caller;

/**
 * Append-only record of every connection refusal, protocol error and operation (who, what,
 * result), one JSON object per line. The file is created 0640 and never followed through a
 * symlink; it is rotated once to {@code .1} past {@link #ROTATE_BYTES}. Refusals are rate limited
 * so that a flood of foreign connections cannot fill the disk; the number suppressed is recorded.
 */
final class AuditLog implements Closeable {

    static final long ROTATE_BYTES = 8L * 1024 * 1024;
    static final int REFUSALS_PER_WINDOW = 100;
    static final long WINDOW_MILLIS = 10_000;

    private final Path file;
    private final Replies json;
    private final Clock clock;
    private final System.Logger log = System.getLogger(AuditLog.class.getName());

    private FileChannel channel;
    private boolean healthy = true;
    private long windowStart;
    private int refusalsInWindow;
    private int suppressed;

    AuditLog(Path file, Replies json, Clock clock) throws IOException {
        this.file = file;
        this.json = json;
        this.clock = clock;
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
        write(record("refused", peer, Map.of("reason", reason)));
    }

    synchronized void protocolError(Caller peer, String code, String message) {
        write(record("protocol-error", peer, Map.of("code", code, "message", message)));
    }

    synchronized void operation(Caller peer, long id, String op, Map<String, Object> params, String result,
            String detail, long micros) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("id", id);
        fields.put("op", op);
        fields.put("params", params);
        fields.put("result", result);
        if (detail != null) {
            fields.put("detail", detail);
        }
        fields.put("micros", micros);
        write(record("operation", peer, fields));
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
            if (channel.size() + line.length > ROTATE_BYTES) {
                rotate();
            }
            ByteBuffer buffer = ByteBuffer.wrap(line);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            healthy = true;
        } catch (IOException e) {
            healthy = false;
            log.log(System.Logger.Level.ERROR, "cannot write the audit log " + file + ": " + e.getMessage());
        }
    }

    private void rotate() throws IOException {
        channel.close();
        Files.move(file, file.resolveSibling(file.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
        channel = open();
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}

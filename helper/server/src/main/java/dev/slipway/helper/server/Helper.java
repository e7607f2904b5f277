package dev.slipway.helper.server;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSettings;

/** The assembled helper: audit log, peer policy, dispatcher and socket server. */
public final class Helper implements Closeable {

    /**
     * Everything the helper needs to start.
     *
     * @param onlyUser the user of {@code --user} mode; empty for group mode
     */
    public record Config(Path socket, String group, Optional<String> onlyUser, Path auditLog, String version,
            Limits limits, AuditRotation auditRotation) {

        public Config(Path socket, String group, Optional<String> onlyUser, Path auditLog, String version, Limits limits) {
            this(socket, group, onlyUser, auditLog, version, limits, AuditRotation.DEFAULT);
        }

        static Config from(HelperSettings settings, Path defaultSocket, Path defaultAuditLog, String version) {
            Limits limits = new Limits(
                    Integer.parseInt(settings.get(HelperSettings.MAX_CONNECTIONS, "64")),
                    Integer.parseInt(settings.get(HelperSettings.WORKERS, "4")),
                    HelperComponent.millis(settings, HelperSettings.IDLE_TIMEOUT_MS, 5000));
            return new Config(HelperComponent.path(settings, HelperSettings.SOCKET).orElse(defaultSocket),
                    HelperComponent.group(settings), settings.get(HelperSettings.USER),
                    HelperComponent.path(settings, HelperSettings.AUDIT_LOG).orElse(defaultAuditLog), version, limits,
                    new AuditRotation(
                            Long.parseLong(settings.get(HelperSettings.AUDIT_LOG_FILE_BYTES, Long.toString(AuditRotation.DEFAULT.fileBytes()))),
                            Integer.parseInt(settings.get(HelperSettings.AUDIT_LOG_FILES, Integer.toString(AuditRotation.DEFAULT.files())))));
        }
    }

    /**
     * How much audit log is kept: {@code files} files (the current one and its rotations) of at most
     * {@code fileBytes} each.
     */
    public record AuditRotation(long fileBytes, int files) {

        public static final AuditRotation DEFAULT = new AuditRotation(8L * 1024 * 1024, 10);

        public AuditRotation {
            if (fileBytes < 4096 || files < 1 || files > 1000) {
                throw new IllegalArgumentException("audit log rotation needs files of at least 4096 bytes and 1 to 1000 files, not "
                        + fileBytes + " bytes x " + files);
            }
        }

        /** The most the audit log ever takes on disk, give or take one record. */
        public long bound() {
            return fileBytes * files;
        }
    }

    /**
     * Resource limits: open connections (further clients wait in the listen backlog), request
     * worker threads, and how long a started message may take to arrive.
     */
    public record Limits(int maxConnections, int workers, java.time.Duration idleTimeout) {}

    private final Replies replies = new Replies();
    private final AuditLog audit;
    private final OperationDispatcher dispatcher;
    private final HelperServer server;

    public Helper(Config config, AccountDirectory accounts, Clock clock) throws IOException {
        audit = new AuditLog(config.auditLog(), replies, clock, config.auditRotation());
        PeerPolicy policy = new PeerPolicy(config.group(), config.onlyUser(), accounts, clock);
        dispatcher = new OperationDispatcher(replies, audit, config.version(), policy.describe());
        server = new HelperServer(config.socket(), config.group(), policy, dispatcher, replies, audit, config.limits());
    }

    public void register(String operation, HelperOperationHandler handler) {
        dispatcher.register(operation, handler);
    }

    public void unregister(String operation, HelperOperationHandler handler) {
        dispatcher.unregister(operation, handler);
    }

    public void start() throws IOException {
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            audit.close();
            throw e;
        }
    }

    long served() {
        return server.served();
    }

    long refused() {
        return server.refused();
    }

    int openConnections() {
        return server.openConnections();
    }

    @Override
    public void close() throws IOException {
        try {
            server.close();
        } finally {
            audit.close();
        }
    }
}

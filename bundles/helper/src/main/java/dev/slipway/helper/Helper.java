package dev.slipway.helper;

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
            Limits limits) {

        static Config from(HelperSettings settings, Path defaultSocket, Path defaultAuditLog, String version) {
            Limits limits = new Limits(
                    Integer.parseInt(settings.get(HelperSettings.MAX_CONNECTIONS, "64")),
                    Integer.parseInt(settings.get(HelperSettings.WORKERS, "4")),
                    HelperComponent.millis(settings, HelperSettings.IDLE_TIMEOUT_MS, 5000));
            return new Config(HelperComponent.path(settings, HelperSettings.SOCKET).orElse(defaultSocket),
                    HelperComponent.group(settings), settings.get(HelperSettings.USER),
                    HelperComponent.path(settings, HelperSettings.AUDIT_LOG).orElse(defaultAuditLog), version, limits);
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
        audit = new AuditLog(config.auditLog(), replies, clock);
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

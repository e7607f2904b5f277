package dev.slipway.helper.server;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import dev.slipway.api.helper.CallerConnection;
import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperProtocol;
import dev.slipway.api.helper.HelperSchema;

/**
 * Runs validated requests: {@code version} and {@code health} itself, every other operation through
 * the handler registered for it. Operations that change the system run one at a time (they edit
 * the same few system files) and only while the audit log can be written; every outcome is audited.
 */
final class OperationDispatcher {

    private final Map<String, HelperOperationHandler> handlers = new ConcurrentHashMap<>();
    private final ReentrantLock mutations = new ReentrantLock(true);
    private final Replies replies;
    private final AuditLog audit;
    private final String helperVersion;
    private final String policy;

    OperationDispatcher(Replies replies, AuditLog audit, String helperVersion, String policy) {
        this.replies = replies;
        this.audit = audit;
        this.helperVersion = helperVersion;
        this.policy = policy;
    }

    void register(String operation, HelperOperationHandler handler) {
        handlers.putIfAbsent(operation, handler);
    }

    void unregister(String operation, HelperOperationHandler handler) {
        handlers.remove(operation, handler);
    }

    /**
     * A reply and what is left to audit. A mutating operation is audited before its reply is sent,
     * so no client ever sees a change that is not on record; a read-only operation's record is
     * written right after its reply is queued, keeping the audit file off the round trip.
     */
    record Dispatched(ByteBuffer reply, Runnable audit) {}

    /** Runs one request; never throws. */
    Dispatched dispatch(RequestParser.Request request, Caller caller, CallerConnection connection) {
        long started = System.nanoTime();
        String op = request.operation().name();
        String result = "ok";
        String detail = null;
        ByteBuffer reply;
        try {
            Map<String, Object> value = run(request, caller, connection);
            reply = replies.ok(request.id(), value);
        } catch (HelperException e) {
            result = e.code();
            detail = e.getMessage();
            reply = replies.error(request.id(), e.code(), e.getMessage());
        } catch (RuntimeException e) {
            result = HelperErrors.FAILED;
            detail = e.toString();
            reply = replies.error(request.id(), HelperErrors.FAILED, "internal error in " + op + ": " + e);
        }
        long micros = (System.nanoTime() - started) / 1000;
        String outcome = result;
        String why = detail;
        Runnable record = () -> audit.operation(caller, request.id(), op, request.params(), outcome, why, micros);
        if (request.operation().mutating()) {
            record.run();
            return new Dispatched(reply, () -> { });
        }
        return new Dispatched(reply, record);
    }

    private Map<String, Object> run(RequestParser.Request request, Caller caller, CallerConnection connection) throws HelperException {
        String op = request.operation().name();
        if (op.equals(HelperSchema.VERSION)) {
            return Map.of("protocol", HelperProtocol.VERSION, "helper", helperVersion);
        }
        if (op.equals(HelperSchema.HEALTH)) {
            Map<String, Object> health = new LinkedHashMap<>();
            health.put("status", "serving");
            health.put("policy", policy);
            health.put("operations", available());
            health.put("auditLog", audit.healthy() ? "ok" : "failing");
            return health;
        }
        HelperOperationHandler handler = handlers.get(op);
        if (handler == null) {
            throw new HelperException(HelperErrors.UNAVAILABLE, op + " is not served by this helper installation");
        }
        HelperCall call = new HelperCall(request.id(), op, request.params(), caller, connection);
        if (!request.operation().mutating()) {
            return handler.handle(call);
        }
        mutations.lock();
        try {
            if (!audit.healthy()) {
                throw new HelperException(HelperErrors.FAILED, "the audit log cannot be written; the helper changes nothing until it can");
            }
            return handler.handle(call);
        } finally {
            mutations.unlock();
        }
    }

    /** Operations the dispatcher answers itself, from memory, without blocking. */
    static boolean builtIn(String operation) {
        return operation.equals(HelperSchema.VERSION) || operation.equals(HelperSchema.HEALTH);
    }

    List<String> available() {
        return HelperSchema.operations().keySet().stream()
                .filter(op -> op.equals(HelperSchema.VERSION) || op.equals(HelperSchema.HEALTH) || handlers.containsKey(op))
                .toList();
    }
}

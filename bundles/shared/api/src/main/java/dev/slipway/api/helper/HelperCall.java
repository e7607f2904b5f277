package dev.slipway.api.helper;

import java.util.Map;
import java.util.Objects;

/**
 * One validated request, as a handler sees it.
 *
 * @param id the client's request id
 * @param operation an operation of {@link HelperSchema}
 * @param params the parameters, already checked against the schema
 * @param caller who asked, from the socket's peer credentials
 * @param connection the connection the request came in on, for replies that pass a descriptor
 */
public record HelperCall(long id, String operation, Map<String, Object> params, Caller caller, CallerConnection connection) {

    public HelperCall {
        Objects.requireNonNull(operation, "operation");
        params = Map.copyOf(params);
        Objects.requireNonNull(caller, "caller");
        Objects.requireNonNull(connection, "connection");
    }

    /** A call whose connection cannot pass descriptors (calls made inside the helper, tests). */
    public HelperCall(long id, String operation, Map<String, Object> params, Caller caller) {
        this(id, operation, params, caller, descriptor -> {
            throw new HelperException(HelperErrors.UNAVAILABLE, operation + " was not called on a connection that can pass descriptors");
        });
    }

    /**
     * The peer of the connection, as the kernel reported it (never what the client claims).
     *
     * @param user the user name (or the numeric uid when it has no name)
     * @param group the primary group name (or numeric gid)
     */
    public record Caller(String user, String group) {
        public Caller {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(group, "group");
        }
    }
}

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
 */
public record HelperCall(long id, String operation, Map<String, Object> params, Caller caller) {

    public HelperCall {
        Objects.requireNonNull(operation, "operation");
        params = Map.copyOf(params);
        Objects.requireNonNull(caller, "caller");
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

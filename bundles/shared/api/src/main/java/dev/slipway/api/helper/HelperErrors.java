package dev.slipway.api.helper;

/** The error codes a helper reply can carry; clients branch on these, people read the message. */
public final class HelperErrors {

    /** The payload was not one strict JSON object; the connection is closed after the reply. */
    public static final String MALFORMED = "malformed";
    /** The length prefix announced more than {@link HelperProtocol#MAX_MESSAGE_BYTES}; connection closed. */
    public static final String OVERSIZED = "oversized";
    /** The connection ended or stalled in the middle of a message; connection closed. */
    public static final String TRUNCATED = "truncated";
    /** The request's protocol version is not {@link HelperProtocol#VERSION}. */
    public static final String UNSUPPORTED_VERSION = "unsupported-version";
    /** The operation is not in {@link HelperSchema}. */
    public static final String UNKNOWN_OPERATION = "unknown-operation";
    /** A field the schema does not define, in the envelope or in the parameters. */
    public static final String UNKNOWN_FIELD = "unknown-field";
    /** A value looked like a path or a file name; the helper never takes one from a client. */
    public static final String PATH_NOT_ALLOWED = "path-not-allowed";
    /** A required field is missing or a value is not allowed. */
    public static final String INVALID = "invalid";
    /** The peer is not allowed to use the helper (logged and audited). */
    public static final String REFUSED = "refused";
    /** The helper is at its connection limit; try again. */
    public static final String BUSY = "busy";
    /** The operation is in the schema but no bundle in this helper serves it. */
    public static final String UNAVAILABLE = "unavailable";
    /** Something on the system is not Slipway's and was left alone (e.g. a foreign /usr/local/bin/docker). */
    public static final String CONFLICT = "conflict";
    /** The operation failed on the system (read-only file, I/O error); nothing was changed. */
    public static final String FAILED = "failed";

    private HelperErrors() {
    }
}

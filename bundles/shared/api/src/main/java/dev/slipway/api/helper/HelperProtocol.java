package dev.slipway.api.helper;

/**
 * Framing and envelope of the helper's wire protocol.
 *
 * <p>Every message is a 4-byte big-endian unsigned length followed by that many bytes of UTF-8
 * JSON (at most {@link #MAX_MESSAGE_BYTES}). A request is
 * {@code {"v":1,"id":N,"op":"NAME","params":{...}}}; a reply is
 * {@code {"v":1,"id":N,"ok":true,"result":{...}}} or
 * {@code {"v":1,"id":N,"ok":false,"error":{"code":"...","message":"..."}}}. The fields and
 * operations allowed are exactly those of {@link HelperSchema}.
 */
public final class HelperProtocol {

    /** The protocol version this API describes; a request with another version is refused. */
    public static final int VERSION = 1;

    /** Length prefix size in bytes. */
    public static final int HEADER_BYTES = 4;

    /** Largest payload accepted in either direction. */
    public static final int MAX_MESSAGE_BYTES = 64 * 1024;

    /** Envelope field names. */
    public static final String FIELD_VERSION = "v";
    public static final String FIELD_ID = "id";
    public static final String FIELD_OPERATION = "op";
    public static final String FIELD_PARAMS = "params";
    public static final String FIELD_OK = "ok";
    public static final String FIELD_RESULT = "result";
    public static final String FIELD_ERROR = "error";
    public static final String FIELD_CODE = "code";
    public static final String FIELD_MESSAGE = "message";

    private HelperProtocol() {
    }
}

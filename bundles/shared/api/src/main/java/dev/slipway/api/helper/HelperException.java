package dev.slipway.api.helper;

import java.util.Objects;

/** A refused or failed helper operation: a code from {@link HelperErrors} and a message for people. */
public class HelperException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String code;

    public HelperException(String code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    public HelperException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public String code() {
        return code;
    }
}

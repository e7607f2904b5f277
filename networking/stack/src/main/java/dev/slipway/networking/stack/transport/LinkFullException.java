package dev.slipway.networking.stack.transport;

import java.io.IOException;

/**
 * The link's queue towards the guest is full: the frame was not taken, and can be sent again once
 * the guest has read. One shared instance without a stack trace, so a busy link costs no allocation.
 */
public final class LinkFullException extends IOException {
    private static final long serialVersionUID = 1L;
    public static final LinkFullException INSTANCE = new LinkFullException();

    private LinkFullException() {
        super("the link's queue towards the guest is full");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}

package dev.slipway.networking.stack.tcp;

/**
 * Where a connection between a guest and the gateway stands, seen from the gateway's side (RFC
 * 9293 names). The gateway's FIN stands for the host side's end of stream; the guest's FIN is
 * passed on to the host once its bytes are written there. There is no 2MSL wait: the gateway is
 * not the host that reuses the port, so TIME-WAIT only holds the guest's last bytes until the host
 * socket takes them.
 */
public enum TcpState {
    /** We opened towards the guest (a published port); our SYN is out. */
    SYN_SENT("syn-sent"),
    /** The guest's SYN is in; the host connection is being made before we answer. */
    CONNECTING("connecting"),
    /** Our SYN-ACK is out. */
    SYN_RECEIVED("syn-received"),
    ESTABLISHED("established"),
    /** The guest's FIN is in; the host side may still send. */
    CLOSE_WAIT("guest-closed"),
    /** Our FIN is out, not yet acknowledged; the guest may still send. */
    FIN_WAIT_1("host-closed"),
    /** Our FIN is acknowledged; the guest may still send. */
    FIN_WAIT_2("host-closed"),
    /** Our FIN came first, then the guest's; ours not yet acknowledged. */
    CLOSING("closing"),
    /** The guest's FIN came first, then ours; ours not yet acknowledged. */
    LAST_ACK("closing"),
    /** Both directions are finished; the guest's last bytes may still wait for the host socket. */
    TIME_WAIT("closing"),
    CLOSED("closed");

    private final String label;

    TcpState(String label) {
        this.label = label;
    }

    /** The name {@code net status} shows. */
    public String label() {
        return label;
    }

    /** Both SYNs are exchanged and acknowledged. */
    public boolean synchronizedState() {
        return ordinal() >= ESTABLISHED.ordinal() && this != CLOSED;
    }

    /** The guest sent its FIN. */
    public boolean guestFinished() {
        return this == CLOSE_WAIT || this == CLOSING || this == LAST_ACK || this == TIME_WAIT;
    }

    /** Our FIN went out. */
    public boolean finSent() {
        return this == FIN_WAIT_1 || this == FIN_WAIT_2 || this == CLOSING || this == LAST_ACK || this == TIME_WAIT;
    }

    /** Our FIN is acknowledged. */
    public boolean finAcknowledged() {
        return this == FIN_WAIT_2 || this == TIME_WAIT;
    }

    /** The state after the guest's FIN. */
    TcpState onGuestFin() {
        return switch (this) {
            case ESTABLISHED -> CLOSE_WAIT;
            case FIN_WAIT_1 -> CLOSING;
            case FIN_WAIT_2 -> TIME_WAIT;
            default -> this;
        };
    }

    /** The state after our FIN went out. */
    TcpState onFinSent() {
        return switch (this) {
            case ESTABLISHED -> FIN_WAIT_1;
            case CLOSE_WAIT -> LAST_ACK;
            default -> this;
        };
    }

    /** The state after the guest acknowledged our FIN. */
    TcpState onFinAcknowledged() {
        return switch (this) {
            case FIN_WAIT_1 -> FIN_WAIT_2;
            case CLOSING, LAST_ACK -> TIME_WAIT;
            default -> this;
        };
    }
}

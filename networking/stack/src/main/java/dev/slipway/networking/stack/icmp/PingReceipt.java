package dev.slipway.networking.stack.icmp;

/** What one {@link PingChannel#receive} took: a reply and its sender, or an error the kernel queued. Reused. */
public final class PingReceipt {
    public static final int EAGAIN = 11;
    public static final int EPERM = 1;
    public static final int ENETUNREACH = 101;
    public static final int EHOSTUNREACH = 113;
    /** The error came from an ICMP (or ICMPv6) message; its type and code say which. */
    public static final int ORIGIN_ICMP = 2;
    public static final int ORIGIN_ICMP6 = 3;

    public long fromHi;
    public long fromLo;
    public boolean error;
    public int origin;
    public int type;
    public int code;
    /** Whether the error names the host whose ICMP message reported it ({@link #offenderHi}, {@link #offenderLo}). */
    public boolean hasOffender;
    public long offenderHi;
    public long offenderLo;

    /** Sets a reply from the address. */
    public void reply(long hi, long lo) {
        error = false;
        hasOffender = false;
        fromHi = hi;
        fromLo = lo;
    }

    /** Sets an error of the origin, ICMP type and code, reported by the offender when {@code offender}. */
    public void error(int origin, int type, int code, boolean offender, long hi, long lo) {
        error = true;
        this.origin = origin;
        this.type = type;
        this.code = code;
        hasOffender = offender;
        offenderHi = hi;
        offenderLo = lo;
    }
}

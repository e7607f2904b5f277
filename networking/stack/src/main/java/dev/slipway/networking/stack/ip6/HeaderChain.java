package dev.slipway.networking.stack.ip6;

import java.nio.ByteBuffer;

/**
 * Walks an IPv6 packet's extension-header chain to its upper-layer header, with limits: a chain
 * whose processing cost the sender controls is an attack (RFC 7045, RFC 7112), so every header type
 * appears at most once (destination options twice), hop-by-hop options only first, the whole chain
 * is at most {@value #MAX_CHAIN_BYTES} bytes, options carry at most 7 bytes of padding in a row,
 * and a first fragment must hold the whole chain.
 */
final class HeaderChain {
    static final int HOP_BY_HOP = 0;
    static final int TCP = 6;
    static final int UDP = 17;
    static final int ROUTING = 43;
    static final int FRAGMENT = 44;
    static final int ESP = 50;
    static final int AUTHENTICATION = 51;
    static final int ICMPV6 = 58;
    static final int NO_NEXT_HEADER = 59;
    static final int DESTINATION_OPTIONS = 60;
    static final int MAX_CHAIN_BYTES = 1024;
    static final int MAX_PADDING = 7;

    /** The walk's outcomes. */
    static final int OK = 0;
    /** Dropped silently: malformed, over a limit, or an option whose type says discard. */
    static final int DISCARD = 1;
    /** Dropped; a parameter problem (code in {@link #problemCode}) may be returned to the sender. */
    static final int PARAMETER_PROBLEM = 2;
    /** A first fragment without the whole chain and the upper-layer header's first 8 bytes (RFC 7112). */
    static final int INCOMPLETE_FIRST_FRAGMENT = 3;

    /** The ICMPv6 parameter-problem code of the last walk that returned {@link #PARAMETER_PROBLEM}. */
    int problemCode;

    /**
     * Walks the chain of the packet whose fixed header {@code p} describes ({@code ipOffset},
     * {@code end}, destination); sets {@code protocol}, {@code l4Offset} and {@code fragmentHeader}.
     */
    int walk(ByteBuffer f, Ip6Packet p) {
        int next = f.get(p.ipOffset + 6) & 0xff;
        int nextField = p.ipOffset + 6;
        int off = p.ipOffset + 40;
        int seen = 0; // bit per header type
        int destinationOptions = 0;
        p.fragmentHeader = -1;
        boolean first = true;
        while (true) {
            switch (next) {
                case TCP, UDP, ICMPV6, NO_NEXT_HEADER, ESP -> {
                    return finish(p, next, off);
                }
                case HOP_BY_HOP, DESTINATION_OPTIONS, ROUTING, AUTHENTICATION -> {
                    if (next == HOP_BY_HOP && !first) {
                        return problem(p, 1, nextField);
                    }
                    int bit = next == HOP_BY_HOP ? 1 : next == ROUTING ? 2 : next == AUTHENTICATION ? 4 : 0;
                    if (next == DESTINATION_OPTIONS ? ++destinationOptions > 2 : (seen & bit) != 0) {
                        return DISCARD;
                    }
                    seen |= bit;
                    if (off + 8 > p.end) {
                        return truncated(p);
                    }
                    int length = next == AUTHENTICATION ? ((f.get(off + 1) & 0xff) + 2) * 4 : ((f.get(off + 1) & 0xff) + 1) * 8;
                    if (off + length > p.end) {
                        return truncated(p);
                    }
                    if (off + length - (p.ipOffset + 40) > MAX_CHAIN_BYTES) {
                        return DISCARD;
                    }
                    if (next == ROUTING) {
                        if ((f.get(off + 3) & 0xff) != 0) {
                            // segments left: we are no hop of a source route (type 0 is deprecated, RFC 5095)
                            return problem(p, 0, off + 2);
                        }
                    } else if (next != AUTHENTICATION) {
                        int r = options(f, off + 2, off + length, p);
                        if (r != OK) {
                            return r;
                        }
                    }
                    nextField = off;
                    next = f.get(off) & 0xff;
                    off += length;
                }
                case FRAGMENT -> {
                    if (p.fragmentHeader >= 0) {
                        return DISCARD;
                    }
                    if (off + 8 > p.end) {
                        return DISCARD;
                    }
                    p.fragmentHeader = off;
                    nextField = off;
                    next = f.get(off) & 0xff;
                    int offset = f.getShort(off + 2) & 0xfff8;
                    off += 8;
                    if (offset != 0) {
                        // a later fragment: what follows is data; the chain was checked in the first
                        p.protocol = next;
                        p.l4Offset = off;
                        return OK;
                    }
                }
                default -> {
                    return problem(p, 1, nextField);
                }
            }
            first = false;
        }
    }

    private int finish(Ip6Packet p, int protocol, int off) {
        p.protocol = protocol;
        p.l4Offset = off;
        if (p.fragmentHeader >= 0 && protocol != NO_NEXT_HEADER && off + 8 > p.end) {
            return INCOMPLETE_FIRST_FRAGMENT;
        }
        return OK;
    }

    private int truncated(Ip6Packet p) {
        return p.fragmentHeader >= 0 ? INCOMPLETE_FIRST_FRAGMENT : DISCARD;
    }

    private int problem(Ip6Packet p, int code, int at) {
        problemCode = code;
        p.problemPointer = at - p.ipOffset;
        return PARAMETER_PROBLEM;
    }

    /** The TLV options of a hop-by-hop or destination-options header, from {@code off} to {@code end}. */
    private int options(ByteBuffer f, int off, int end, Ip6Packet p) {
        int padding = 0;
        while (off < end) {
            int type = f.get(off) & 0xff;
            if (type == 0) {
                if (++padding > MAX_PADDING) {
                    return DISCARD;
                }
                off++;
                continue;
            }
            if (off + 2 > end) {
                return DISCARD;
            }
            int length = f.get(off + 1) & 0xff;
            if (off + 2 + length > end) {
                return DISCARD;
            }
            if (type == 1) {
                padding += 2 + length;
                if (padding > MAX_PADDING) {
                    return DISCARD;
                }
            } else {
                padding = 0;
                if (type != 5 && type != 4) { // router alert (MLD), tunnel encapsulation limit
                    switch (type >>> 6) {
                        case 0 -> { }
                        case 1 -> {
                            return DISCARD;
                        }
                        case 2 -> {
                            return problem(p, 2, off);
                        }
                        default -> {
                            if (Ip6.isMulticast(p.dstHi)) {
                                return DISCARD;
                            }
                            return problem(p, 2, off);
                        }
                    }
                }
            }
            off += 2 + length;
        }
        return OK;
    }
}

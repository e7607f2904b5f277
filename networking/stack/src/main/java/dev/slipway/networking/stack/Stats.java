package dev.slipway.networking.stack;

import java.util.LinkedHashMap;
import java.util.Map;

/** Frame and drop counters, written with the stack's lock held. */
public final class Stats {
    long rxFrames;
    long rxBytes;
    long txFrames;
    long txBytes;
    long icmpEchoReplies;
    long icmpErrors;
    private final long[] drops = new long[Drop.values().length];

    public void drop(Drop reason) {
        drops[reason.ordinal()]++;
    }

    /** A frame from a guest. */
    public void received(int length) {
        rxFrames++;
        rxBytes += length;
    }

    /** A frame to the guests. */
    public void sent(int length) {
        txFrames++;
        txBytes += length;
    }

    public void icmpEchoReply() {
        icmpEchoReplies++;
    }

    public void icmpError() {
        icmpErrors++;
    }

    public long drops(Drop reason) {
        return drops[reason.ordinal()];
    }

    public long totalDrops() {
        long sum = 0;
        for (long d : drops) {
            sum += d;
        }
        return sum;
    }

    public long rxFrames() {
        return rxFrames;
    }

    public long txFrames() {
        return txFrames;
    }

    public Map<String, Object> traffic() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fromGuestFrames", rxFrames);
        m.put("fromGuestBytes", rxBytes);
        m.put("toGuestFrames", txFrames);
        m.put("toGuestBytes", txBytes);
        m.put("icmpEchoReplies", icmpEchoReplies);
        m.put("icmpErrors", icmpErrors);
        return m;
    }

    public Map<String, Object> drops() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Drop d : Drop.values()) {
            if (drops[d.ordinal()] != 0) {
                m.put(d.label(), drops[d.ordinal()]);
            }
        }
        return m;
    }
}

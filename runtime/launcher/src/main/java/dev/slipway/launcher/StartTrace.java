package dev.slipway.launcher;

import java.io.PrintStream;

/** With {@code -Dslipway.trace.start=true}: how long each start step took, for start-time work. */
final class StartTrace {

    private final boolean enabled;
    private final long started;
    private final PrintStream out;
    private long last;
    private long lastCpu;

    StartTrace(boolean enabled, long started, PrintStream out) {
        this.enabled = enabled;
        this.started = started;
        this.out = out;
        this.last = started;
    }

    void mark(String step) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        long cpu = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        out.printf("slipway: start trace %6d ms  +%5d ms  (main thread cpu +%5d ms)  %s%n", (now - started) / 1_000_000,
                (now - last) / 1_000_000, (cpu - lastCpu) / 1_000_000, step);
        last = now;
        lastCpu = cpu;
    }
}

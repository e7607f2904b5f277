package dev.slipway.process.poll;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

import dev.slipway.api.platform.CommandRunner;

/**
 * A value that a command's output describes (the resolvers `scutil --dns` prints, the proxy that
 * `reg query` shows, ...), read again now and then. A failed or failing run keeps the last value;
 * a changed value is handed to the owner's callback. Runs on one daemon thread, so activating the
 * owner never waits for the command.
 */
public final class PolledCommand<T> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolledCommand.class);

    private final CommandRunner commands;
    private final List<String> command;
    private final Duration timeout;
    private final Function<String, T> parse;
    private final Consumer<T> changed;
    private final String what;
    private volatile T current;
    private ScheduledExecutorService scheduler;

    /**
     * @param what    what the command reads, for log messages ("the DNS servers")
     * @param initial the value before the first successful run
     * @param parse   turns the command's standard output into the value (may throw on garbage)
     * @param changed told every new value that differs from the last one
     */
    public PolledCommand(String what, CommandRunner commands, List<String> command, Duration timeout, T initial,
                         Function<String, T> parse, Consumer<T> changed) {
        this.what = what;
        this.commands = commands;
        this.command = List.copyOf(command);
        this.timeout = timeout;
        this.current = initial;
        this.parse = parse;
        this.changed = changed;
    }

    /** Runs the command now and then every {@code interval} on a daemon thread named {@code threadName}. */
    public synchronized PolledCommand<T> every(Duration interval, String threadName) {
        if (scheduler == null) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
            });
            scheduler.scheduleWithFixedDelay(this::refresh, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        }
        return this;
    }

    public T current() {
        return current;
    }

    /** Runs the command once; keeps the last value when it fails. */
    public void refresh() {
        T next;
        try {
            CommandRunner.Result result = commands.run(command, timeout);
            if (!result.succeeded()) {
                LOG.warn("reading " + what + " failed (" + result.exitCode() + "): " + result.stderr().strip());
                return;
            }
            next = parse.apply(result.stdout());
        } catch (Exception e) {
            LOG.warn("cannot read " + what + "; keeping the last ones", e);
            return;
        }
        if (Objects.equals(next, current)) {
            return;
        }
        current = next;
        try {
            changed.accept(next);
        } catch (RuntimeException e) {
            LOG.warn("a listener to " + what + " failed", e);
        }
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }
}

package dev.slipway.process.poll;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import java.util.function.Function;

import dev.slipway.api.platform.CommandRunner;

/**
 * A system setting that a command prints (the host's resolvers, its proxy settings), watched for the
 * listeners of the platform service that offers it: owns the {@link PolledCommand}, the listeners
 * and the telling of each changed value. {@link PolledProxySettings} and {@link PolledHostResolvers}
 * wrap one for their components.
 *
 * @param <T> the setting's value
 * @param <L> the listener service
 */
public final class PolledSetting<T, L> implements AutoCloseable {

    private final List<L> listeners = new CopyOnWriteArrayList<>();
    private final BiConsumer<L, T> tell;
    private final PolledCommand<T> system;

    /**
     * @param what    what the command reads, for log messages ("the DNS servers from scutil --dns")
     * @param initial the value before the first successful run
     * @param parse   turns the command's standard output into the value (may throw on garbage)
     * @param tell    hands a listener a new value
     */
    public PolledSetting(String what, CommandRunner commands, List<String> command, Duration timeout, T initial,
                         Function<String, T> parse, BiConsumer<L, T> tell) {
        this.tell = tell;
        system = new PolledCommand<>(what, commands, command, timeout, initial, parse, this::changed);
    }

    /**
     * With {@code poll}, runs the command every {@code interval} on a daemon thread named
     * {@code threadName}, the first run included: activation must not wait for the command.
     * Without it, runs the command once now and leaves further reads to {@link #refresh()}.
     */
    public PolledSetting<T, L> start(boolean poll, Duration interval, String threadName) {
        if (poll) {
            system.every(interval, threadName);
        } else {
            system.refresh();
        }
        return this;
    }

    public void add(L listener) {
        listeners.add(listener);
    }

    /** Adds the listener and tells it the current value, under the lock a change is told under, so it never hears an older value last. */
    public synchronized void addAndTell(L listener) {
        listeners.add(listener);
        tell.accept(listener, current());
    }

    public void remove(L listener) {
        listeners.remove(listener);
    }

    public T current() {
        return system.current();
    }

    /** Runs the command once; keeps the last value when it fails. */
    public void refresh() {
        system.refresh();
    }

    @Override
    public void close() {
        system.close();
    }

    private synchronized void changed(T ignored) {
        T latest = current();
        listeners.forEach(listener -> tell.accept(listener, latest));
    }
}

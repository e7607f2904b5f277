package dev.slipway.process.poll;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;

/**
 * The host's resolvers as a command prints them (macOS's {@code scutil --dns}, PowerShell's
 * DnsClient module), asked again now and then so that a VPN connecting or a network change is
 * noticed. A listener added is told the current resolvers at once.
 *
 * <p>The platform's component extends this and keeps its own {@code @Component} and {@code @Activate}
 * constructor; the deactivation and the listener reference here are DS annotations the component's
 * bundle inherits with {@code -dsannotations-options: inherit}.
 */
public abstract class PolledHostResolvers implements HostResolvers {

    private final PolledSetting<List<Resolver>, Listener> system;

    /**
     * @param what       what the command reads, for log messages ("the DNS servers from scutil --dns")
     * @param parse      turns the command's standard output into the resolvers (may throw on garbage)
     * @param poll       whether to run the command every {@code interval} on a daemon thread named
     *                   {@code threadName}; without it, once now and then on {@link #refresh()}
     */
    protected PolledHostResolvers(String what, CommandRunner commands, List<String> command, Duration timeout,
                                  Function<String, List<Resolver>> parse, boolean poll, Duration interval, String threadName) {
        system = new PolledSetting<List<Resolver>, Listener>(what, commands, command, timeout, List.of(), parse, Listener::resolversChanged)
                .start(poll, interval, threadName);
    }

    @Deactivate
    protected void deactivate() {
        system.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addListener(Listener listener) {
        system.addAndTell(listener);
    }

    public void removeListener(Listener listener) {
        system.remove(listener);
    }

    @Override
    public List<Resolver> resolvers() {
        return system.current();
    }

    /** Asks the system again; keeps the last resolvers when that fails. */
    public void refresh() {
        system.refresh();
    }
}

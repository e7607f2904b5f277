package dev.slipway.platform.macos;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;
import dev.slipway.process.poll.PolledCommand;

/**
 * The resolvers macOS uses, per domain included (split DNS of VPN clients), from
 * {@code scutil --dns}; asked again every {@value #POLL_SECONDS} seconds so that a VPN connecting
 * or a network change is noticed.
 */
@Component(service = HostResolvers.class, immediate = true)
public final class MacOsHostResolvers implements HostResolvers {

    static final int POLL_SECONDS = 5;
    static final List<String> COMMAND = List.of("/usr/sbin/scutil", "--dns");
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final PolledCommand<List<Resolver>> system;

    @Activate
    public MacOsHostResolvers(@Reference CommandRunner commands) {
        this(commands, true);
    }

    MacOsHostResolvers(CommandRunner commands, boolean poll) {
        system = new PolledCommand<>("the DNS servers from scutil --dns", commands, COMMAND, Duration.ofSeconds(10), List.of(), ScutilDns::parse, this::tell);
        if (poll) {
            // the first run happens on the poller too: activation must not wait for the command
            system.every(Duration.ofSeconds(POLL_SECONDS), "slipway-scutil-dns");
        } else {
            system.refresh();
        }
    }

    @Deactivate
    void deactivate() {
        system.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    synchronized void addListener(Listener listener) {
        listeners.add(listener);
        listener.resolversChanged(resolvers());
    }

    void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    @Override
    public List<Resolver> resolvers() {
        return system.current();
    }

    /** Asks the system again; keeps the last resolvers when that fails. */
    void refresh() {
        system.refresh();
    }

    /** Under the lock addListener takes, with the latest list, so a new listener never hears an older one last. */
    private synchronized void tell(List<Resolver> changed) {
        List<Resolver> latest = resolvers();
        listeners.forEach(listener -> listener.resolversChanged(latest));
    }
}

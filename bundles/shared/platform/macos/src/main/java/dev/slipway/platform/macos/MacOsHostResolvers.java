package dev.slipway.platform.macos;

import java.time.Duration;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;
import dev.slipway.process.poll.PolledSetting;

/**
 * The resolvers macOS uses, per domain included (split DNS of VPN clients), from
 * {@code scutil --dns}; asked again every {@value #POLL_SECONDS} seconds so that a VPN connecting
 * or a network change is noticed.
 */
@Component(service = HostResolvers.class, immediate = true)
public final class MacOsHostResolvers implements HostResolvers {

    static final int POLL_SECONDS = 5;
    static final List<String> COMMAND = List.of("/usr/sbin/scutil", "--dns");
    private final PolledSetting<List<Resolver>, Listener> system;

    @Activate
    public MacOsHostResolvers(@Reference CommandRunner commands) {
        this(commands, true);
    }

    MacOsHostResolvers(CommandRunner commands, boolean poll) {
        system = new PolledSetting<List<Resolver>, Listener>("the DNS servers from scutil --dns", commands, COMMAND, Duration.ofSeconds(10), List.of(), ScutilDns::parse, Listener::resolversChanged)
                .start(poll, Duration.ofSeconds(POLL_SECONDS), "slipway-scutil-dns");
    }

    @Deactivate
    void deactivate() {
        system.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(Listener listener) {
        system.addAndTell(listener);
    }

    void removeListener(Listener listener) {
        system.remove(listener);
    }

    @Override
    public List<Resolver> resolvers() {
        return system.current();
    }

    /** Asks the system again; keeps the last resolvers when that fails. */
    void refresh() {
        system.refresh();
    }
}

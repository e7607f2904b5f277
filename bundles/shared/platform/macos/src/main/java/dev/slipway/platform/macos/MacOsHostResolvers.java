package dev.slipway.platform.macos;

import java.time.Duration;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;
import dev.slipway.process.poll.PolledHostResolvers;

/**
 * The resolvers macOS uses, per domain included (split DNS of VPN clients), from
 * {@code scutil --dns}; asked again every {@value #POLL_SECONDS} seconds so that a VPN connecting
 * or a network change is noticed.
 */
@Component(service = HostResolvers.class, immediate = true)
public final class MacOsHostResolvers extends PolledHostResolvers {

    static final int POLL_SECONDS = 5;
    static final List<String> COMMAND = List.of("/usr/sbin/scutil", "--dns");

    @Activate
    public MacOsHostResolvers(@Reference CommandRunner commands) {
        this(commands, true);
    }

    MacOsHostResolvers(CommandRunner commands, boolean poll) {
        super("the DNS servers from scutil --dns", commands, COMMAND, Duration.ofSeconds(10), ScutilDns::parse, poll, Duration.ofSeconds(POLL_SECONDS),
                "slipway-scutil-dns");
    }
}

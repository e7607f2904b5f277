package dev.slipway.platform.macos;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.HostResolvers;

/**
 * The resolvers macOS uses, per domain included (split DNS of VPN clients), from
 * {@code scutil --dns}; asked again every {@value #POLL_SECONDS} seconds so that a VPN connecting
 * or a network change is noticed.
 */
@Component(service = HostResolvers.class)
public final class MacOsHostResolvers implements HostResolvers {

    static final int POLL_SECONDS = 5;
    static final List<String> COMMAND = List.of("/usr/sbin/scutil", "--dns");
    private static final Logger LOG = Logger.getLogger(MacOsHostResolvers.class.getName());

    private final CommandRunner commands;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService poller;
    private volatile List<Resolver> resolvers = List.of();

    @Activate
    public MacOsHostResolvers(@Reference CommandRunner commands) {
        this(commands, true);
    }

    MacOsHostResolvers(CommandRunner commands, boolean poll) {
        this.commands = commands;
        if (poll) {
            // the first run happens on the poller too: activation must not wait for the command
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "slipway-scutil-dns");
                t.setDaemon(true);
                return t;
            });
            poller.scheduleWithFixedDelay(this::refresh, 0, POLL_SECONDS, TimeUnit.SECONDS);
        } else {
            poller = null;
            refresh();
        }
    }

    @Deactivate
    void deactivate() {
        if (poller != null) {
            poller.shutdownNow();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(Listener listener) {
        listeners.add(listener);
    }

    void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    @Override
    public List<Resolver> resolvers() {
        return resolvers;
    }

    /** Asks scutil again; keeps the last resolvers when it fails. */
    void refresh() {
        List<Resolver> parsed;
        try {
            CommandRunner.Result result = commands.run(COMMAND, Duration.ofSeconds(10));
            if (!result.succeeded()) {
                LOG.warning("scutil --dns failed (" + result.exitCode() + "): " + result.stderr().strip());
                return;
            }
            parsed = ScutilDns.parse(result.stdout());
        } catch (Exception e) {
            LOG.log(Level.WARNING, "cannot run scutil --dns; keeping the last resolvers", e);
            return;
        }
        if (parsed.equals(resolvers)) {
            return;
        }
        resolvers = parsed;
        for (Listener listener : listeners) {
            try {
                listener.resolversChanged(parsed);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a resolver listener failed", e);
            }
        }
    }
}

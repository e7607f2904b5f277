package dev.slipway.platform.windows;

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
 * The DNS servers of the connected network adapters and the NRPT's per-domain servers, from
 * PowerShell's DnsClient module; asked again every {@value #POLL_SECONDS} seconds (PowerShell
 * takes a while to start, so less often than on the other systems).
 */
@Component(service = HostResolvers.class)
public final class WindowsHostResolvers implements HostResolvers {

    static final int POLL_SECONDS = 10;
    /** Prints the lines {@link DnsClientOutput} reads; locale-independent, unlike ipconfig /all. */
    static final String SCRIPT = String.join("; ",
            "$ErrorActionPreference = 'SilentlyContinue'",
            "Get-NetAdapter | Where-Object Status -eq 'Up' | ForEach-Object {"
                    + " $i = $_.ifIndex;"
                    + " $m = (Get-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4).InterfaceMetric;"
                    + " Get-DnsClientServerAddress -InterfaceIndex $i | ForEach-Object {"
                    + " 'server|{0}|{1}|{2}|{3}' -f $i, $m, $_.AddressFamily, ($_.ServerAddresses -join ',') } }",
            "Get-DnsClientNrptPolicy | ForEach-Object {"
                    + " 'nrpt|{0}|{1}' -f ($_.Namespace -join ','), ($_.NameServers -join ',') }");
    static final List<String> COMMAND = List.of("powershell.exe", "-NoProfile", "-NonInteractive", "-Command", SCRIPT);
    private static final Logger LOG = Logger.getLogger(WindowsHostResolvers.class.getName());

    private final CommandRunner commands;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService poller;
    private volatile List<Resolver> resolvers = List.of();

    @Activate
    public WindowsHostResolvers(@Reference CommandRunner commands) {
        this(commands, true);
    }

    WindowsHostResolvers(CommandRunner commands, boolean poll) {
        this.commands = commands;
        if (poll) {
            // the first run happens on the poller too: activation must not wait for the command
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "slipway-dns-client");
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

    /** Asks PowerShell again; keeps the last resolvers when it fails. */
    void refresh() {
        List<Resolver> parsed;
        try {
            CommandRunner.Result result = commands.run(COMMAND, Duration.ofSeconds(20));
            if (!result.succeeded()) {
                LOG.warning("reading the DNS servers failed (" + result.exitCode() + "): " + result.stderr().strip());
                return;
            }
            parsed = DnsClientOutput.parse(result.stdout());
        } catch (Exception e) {
            LOG.log(Level.WARNING, "cannot read the DNS servers; keeping the last ones", e);
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

package dev.slipway.platform.macos;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
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
import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyEnvironment;
import dev.slipway.api.proxy.ProxySettings;

/**
 * The system proxy settings of macOS, from {@code scutil --proxy}. The environment's proxy variables win when they set a proxy (a shell that exports them
 * means it). Asked again every {@value #POLL_SECONDS} seconds, so a change is noticed.
 */
@Component(service = ProxySettings.class)
public final class MacOsProxySettings implements ProxySettings {

    static final int POLL_SECONDS = 5;
    static final List<String> COMMAND = List.of("/usr/sbin/scutil", "--proxy");
    private static final Logger LOG = Logger.getLogger(MacOsProxySettings.class.getName());

    private final CommandRunner commands;
    private final ProxyConfig environment;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService poller;
    private volatile ProxyConfig current;

    @Activate
    public MacOsProxySettings(@Reference CommandRunner commands) {
        this(commands, ProxyEnvironment.parse(System.getenv(), problem -> LOG.warning("ignoring " + problem)), true);
    }

    MacOsProxySettings(CommandRunner commands, ProxyConfig environment, boolean poll) {
        this.commands = commands;
        this.environment = environment;
        this.current = environment;
        if (poll) {
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "slipway-proxy-settings");
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
    public ProxyConfig current() {
        return current;
    }

    /** Reads the system's settings again; keeps the last ones when that fails. */
    void refresh() {
        ProxyConfig next;
        if (!environment.isEmpty()) {
            next = environment;
        } else {
            try {
                CommandRunner.Result result = commands.run(COMMAND, Duration.ofSeconds(10));
                if (!result.succeeded()) {
                    LOG.warning(String.join(" ", COMMAND) + " failed (" + result.exitCode() + "): " + result.stderr().strip());
                    return;
                }
                next = ScutilProxy.parse(result.stdout());
            } catch (Exception e) {
                LOG.log(Level.WARNING, "cannot read the proxy settings; keeping the last ones", e);
                return;
            }
        }
        if (Objects.equals(next, current) && poller != null) {
            return;
        }
        current = next;
        for (Listener listener : listeners) {
            try {
                listener.proxySettingsChanged(next);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a proxy settings listener failed", e);
            }
        }
    }
}

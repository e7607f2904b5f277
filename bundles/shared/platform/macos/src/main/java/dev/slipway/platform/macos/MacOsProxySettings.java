package dev.slipway.platform.macos;

import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

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
import dev.slipway.process.poll.PolledSetting;

/**
 * The system proxy settings of macOS, from {@code scutil --proxy}. The environment's proxy variables win when they set a proxy (a shell that exports them
 * means it). Asked again every {@value #POLL_SECONDS} seconds, so a change is noticed.
 */
@Component(service = ProxySettings.class)
public final class MacOsProxySettings implements ProxySettings {

    static final int POLL_SECONDS = 5;
    static final List<String> COMMAND = List.of("/usr/sbin/scutil", "--proxy");
    private final ProxyConfig environment;
    private final PolledSetting<ProxyConfig, Listener> system;

    @Activate
    public MacOsProxySettings(@Reference CommandRunner commands) {
        this(commands, ProxyEnvironment.parse(System.getenv(), problem -> LoggerFactory.getLogger(MacOsProxySettings.class)
                .warn("ignoring " + problem)), true);
    }

    MacOsProxySettings(CommandRunner commands, ProxyConfig environment, boolean poll) {
        this.environment = environment;
        system = new PolledSetting<>("the proxy settings from scutil --proxy", commands, COMMAND, Duration.ofSeconds(10), environment, ScutilProxy::parse, Listener::proxySettingsChanged);
        if (environment.isEmpty()) { // otherwise the environment's proxy variables win: nothing to watch
            system.start(poll, Duration.ofSeconds(POLL_SECONDS), "slipway-proxy-settings");
        }
    }

    @Deactivate
    void deactivate() {
        system.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(Listener listener) {
        system.add(listener);
    }

    void removeListener(Listener listener) {
        system.remove(listener);
    }

    @Override
    public ProxyConfig current() {
        return environment.isEmpty() ? system.current() : environment;
    }

    /** Reads the system's settings again; keeps the last ones when that fails. */
    void refresh() {
        system.refresh();
    }
}

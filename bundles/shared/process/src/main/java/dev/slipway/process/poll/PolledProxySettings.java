package dev.slipway.process.poll;

import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyEnvironment;
import dev.slipway.api.proxy.ProxySettings;

/**
 * Proxy settings that a command prints (macOS's {@code scutil --proxy}, Windows' {@code reg query}),
 * read again now and then so that a change is noticed. The environment's proxy variables win when
 * they set a proxy (a shell that exports them means it); the command is then never run.
 *
 * <p>The platform's component extends this and keeps its own {@code @Component} and {@code @Activate}
 * constructor; the deactivation and the listener reference here are DS annotations the component's
 * bundle inherits with {@code -dsannotations-options: inherit}.
 */
public abstract class PolledProxySettings implements ProxySettings {

    private final ProxyConfig environment;
    private final PolledSetting<ProxyConfig, Listener> system;

    /**
     * @param what        what the command reads, for log messages ("the proxy settings from scutil --proxy")
     * @param environment the proxy variables of the environment ({@link #environment(Class)}); the command is watched only when they are empty
     * @param parse       turns the command's standard output into the settings (may throw on garbage)
     * @param poll        whether to run the command every {@code interval}; without it, once now and then on {@link #refresh()}
     */
    protected PolledProxySettings(String what, CommandRunner commands, List<String> command, Duration timeout,
                                  Function<String, ProxyConfig> parse, ProxyConfig environment, boolean poll, Duration interval) {
        this.environment = environment;
        system = new PolledSetting<>(what, commands, command, timeout, environment, parse, Listener::proxySettingsChanged);
        if (environment.isEmpty()) { // otherwise the environment's proxy variables win: nothing to watch
            system.start(poll, interval, "slipway-proxy-settings");
        }
    }

    /** The proxy variables of this process's environment; each one ignored is logged for {@code owner}. */
    protected static ProxyConfig environment(Class<?> owner) {
        return ProxyEnvironment.parse(System.getenv(), problem -> LoggerFactory.getLogger(owner).warn("ignoring " + problem));
    }

    @Deactivate
    protected void deactivate() {
        system.close();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    public void addListener(Listener listener) {
        system.add(listener);
    }

    public void removeListener(Listener listener) {
        system.remove(listener);
    }

    @Override
    public ProxyConfig current() {
        return environment.isEmpty() ? system.current() : environment;
    }

    /** Reads the system's settings again; keeps the last ones when that fails. */
    public void refresh() {
        system.refresh();
    }
}

package dev.slipway.platform.macos;

import java.time.Duration;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxySettings;
import dev.slipway.process.poll.PolledProxySettings;

/**
 * The system proxy settings of macOS, from {@code scutil --proxy}. The environment's proxy variables win when they set a proxy (a shell that exports them
 * means it). Asked again every {@value #POLL_SECONDS} seconds, so a change is noticed.
 */
@Component(service = ProxySettings.class)
public final class MacOsProxySettings extends PolledProxySettings {

    static final int POLL_SECONDS = 5;
    static final List<String> COMMAND = List.of("/usr/sbin/scutil", "--proxy");

    @Activate
    public MacOsProxySettings(@Reference CommandRunner commands) {
        this(commands, environment(MacOsProxySettings.class), true);
    }

    MacOsProxySettings(CommandRunner commands, ProxyConfig environment, boolean poll) {
        super("the proxy settings from scutil --proxy", commands, COMMAND, Duration.ofSeconds(10), ScutilProxy::parse, environment, poll,
                Duration.ofSeconds(POLL_SECONDS));
    }
}

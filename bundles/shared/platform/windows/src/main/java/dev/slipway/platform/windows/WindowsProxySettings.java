package dev.slipway.platform.windows;

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
 * The per-user Internet Settings of Windows, from {@code reg query}. The environment's proxy variables win when they set a proxy (a shell that exports them
 * means it). Asked again every {@value #POLL_SECONDS} seconds, so a change is noticed.
 */
@Component(service = ProxySettings.class)
public final class WindowsProxySettings extends PolledProxySettings {

    static final int POLL_SECONDS = 10;
    static final List<String> COMMAND = List.of("reg.exe", "query", InternetSettings.KEY);

    @Activate
    public WindowsProxySettings(@Reference CommandRunner commands) {
        this(commands, environment(WindowsProxySettings.class), true);
    }

    WindowsProxySettings(CommandRunner commands, ProxyConfig environment, boolean poll) {
        super("the Internet Settings from reg query", commands, COMMAND, Duration.ofSeconds(10), InternetSettings::parse, environment, poll,
                Duration.ofSeconds(POLL_SECONDS));
    }
}

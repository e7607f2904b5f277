package dev.slipway.platform.linux;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import dev.slipway.api.proxy.ProxyConfig;
import dev.slipway.api.proxy.ProxyEnvironment;
import dev.slipway.api.proxy.ProxySettings;

/**
 * Linux has no system-wide proxy setting every program honours; the environment variables are
 * the convention. They are fixed for the life of the runtime process, so nothing is re-read.
 */
@Component(service = ProxySettings.class)
public final class LinuxProxySettings implements ProxySettings {
    private static final Logger LOG = LoggerFactory.getLogger(LinuxProxySettings.class);
    private final ProxyConfig config;

    @Activate
    public LinuxProxySettings() {
        config = ProxyEnvironment.parse(System.getenv(), problem -> LOG.warn("ignoring " + problem));
    }

    @Override
    public ProxyConfig current() {
        return config;
    }
}

package dev.slipway.platform.macos;

import org.osgi.service.component.annotations.Component;

import dev.slipway.api.helper.HostsConventions;

/** /private/etc/hosts: replaced by rename, LF line endings, no host/gateway names by default. */
@Component(service = HostsConventions.class)
public final class MacOsHostsConventions implements HostsConventions {

    @Override public WriteStrategy writeStrategy() { return WriteStrategy.REPLACE_BY_RENAME; }
    @Override public String lineSeparator() { return "\n"; }
    @Override public boolean hostGatewayNamesByDefault() { return false; }
}

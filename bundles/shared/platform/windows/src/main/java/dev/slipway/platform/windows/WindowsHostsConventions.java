package dev.slipway.platform.windows;

import org.osgi.service.component.annotations.Component;

import dev.slipway.api.helper.HostsConventions;

/**
 * The Win32 hosts file: rewritten in place after a backup (a rename would drop its ACL and the
 * DNS client's change notification), CRLF, and host/gateway.docker.internal maintained.
 */
@Component(service = HostsConventions.class)
public final class WindowsHostsConventions implements HostsConventions {

    @Override public WriteStrategy writeStrategy() { return WriteStrategy.REWRITE_IN_PLACE_AFTER_BACKUP; }
    @Override public String lineSeparator() { return "\r\n"; }
    @Override public boolean hostGatewayNamesByDefault() { return true; }
}

package dev.slipway.networking.stack.component;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.StatusContributor;

/** The {@code net} section of {@code slipway status --json}. */
@Component(property = StatusContributor.KEY + "=net")
public final class NetStatus implements StatusContributor {
    private final StackHost host;

    @Activate
    public NetStatus(@Reference StackHost host) {
        this.host = host;
    }

    @Override
    public Object status() {
        return host.stack().status();
    }
}

package dev.slipway.control;

import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.slipway.api.control.StatusContributor;
import dev.slipway.api.platform.Platform;

/**
 * The {@code platform} section of the status: which platform bundle serves this machine and what it
 * reports. Bound dynamically and greedily, so a hot-swapped platform bundle shows here at once.
 */
@Component(property = StatusContributor.KEY + "=platform")
public final class PlatformStatus implements StatusContributor {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    volatile Map.Entry<Map<String, Object>, Platform> platform; // package-private for tests

    private final BundleContext context;

    @Activate
    public PlatformStatus(BundleContext context) {
        this.context = context;
    }

    @Override
    public Object status() {
        Map.Entry<Map<String, Object>, Platform> current = platform;
        Map<String, Object> status = new LinkedHashMap<>();
        if (current == null) {
            status.put("available", false);
            return status;
        }
        Platform p = current.getValue();
        status.put("available", true);
        Bundle provider = context.getBundle((Long) current.getKey().get(Constants.SERVICE_BUNDLEID));
        if (provider != null) {
            status.put("bundle", provider.getSymbolicName());
            status.put("bundleVersion", provider.getVersion().toString());
            status.put("bundleId", provider.getBundleId());
        }
        status.put("os", p.osName());
        status.put("hostsFile", p.hostsFile().toString());
        status.put("helperSocket", p.helperSocket().toString());
        status.put("runtimeDir", p.runtimeDir().toString());
        status.put("userBinDir", p.userBinDir().toString());
        status.put("systemBinDir", p.systemBinDir().toString());
        return status;
    }
}

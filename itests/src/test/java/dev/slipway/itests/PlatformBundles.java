package dev.slipway.itests;

import java.util.Arrays;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

final class PlatformBundles {

    private PlatformBundles() {
    }

    static Bundle find(BundleContext context, String symbolicName) {
        return Arrays.stream(context.getBundles())
                .filter(b -> symbolicName.equals(b.getSymbolicName()))
                .findFirst()
                .orElseThrow(() -> new AssertionError(symbolicName + " is not installed"));
    }

    static int state(BundleContext context, String symbolicName) {
        return find(context, symbolicName).getState();
    }
}

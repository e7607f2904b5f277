package dev.slipway.control;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

import dev.slipway.testing.Fake;

/** A bundle context with framework properties and a fixed set of bundles, bundle 0 first. */
final class FakeContext {

    final Map<String, String> properties = new HashMap<>();
    final List<Bundle> bundles = new ArrayList<>();

    FakeContext(FakeBundle... bundles) {
        for (FakeBundle bundle : bundles) {
            this.bundles.add(bundle.bundle());
        }
    }

    BundleContext context() {
        return Fake.of(BundleContext.class, this);
    }

    String getProperty(String key) {
        return properties.get(key);
    }

    Bundle getBundle(long id) {
        return bundles.stream().filter(b -> b.getBundleId() == id).findFirst().orElse(null);
    }

    Bundle[] getBundles() {
        return bundles.toArray(Bundle[]::new);
    }
}

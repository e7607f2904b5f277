package dev.slipway.control;

import java.util.concurrent.CountDownLatch;

import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.wiring.BundleRevision;

import dev.slipway.testing.Fake;
import dev.slipway.testing.FakeBundleBasics;

/** A bundle with the little a status report reads: identity, state, headers and its revision. */
final class FakeBundle extends FakeBundleBasics {

    BundleRevision revision;
    final CountDownLatch stopped = new CountDownLatch(1);

    FakeBundle(long id, String symbolicName, String version, int state) {
        super(id, symbolicName, version, state);
    }

    FakeBundle fragmentOf(String host) {
        headers.put(Constants.FRAGMENT_HOST, host);
        return this;
    }

    FakeBundle withRevision(BundleRevision revision) {
        this.revision = revision;
        return this;
    }

    Bundle bundle() {
        return Fake.of(Bundle.class, this);
    }

    @SuppressWarnings("unchecked")
    <A> A adapt(Class<A> type) {
        return type == BundleRevision.class ? (A) revision : null;
    }

    void stop() {
        stopped.countDown();
    }
}

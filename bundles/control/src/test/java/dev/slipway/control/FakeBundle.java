package dev.slipway.control;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.CountDownLatch;

import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.BundleRevision;

import dev.slipway.testing.Fake;

/** A bundle with the little a status report reads: identity, state, headers and its revision. */
final class FakeBundle {

    final long id;
    final String symbolicName;
    final Version version;
    volatile int state;
    final Hashtable<String, String> headers = new Hashtable<>();
    BundleRevision revision;
    final CountDownLatch stopped = new CountDownLatch(1);

    FakeBundle(long id, String symbolicName, String version, int state) {
        this.id = id;
        this.symbolicName = symbolicName;
        this.version = Version.parseVersion(version);
        this.state = state;
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

    long getBundleId() {
        return id;
    }

    String getSymbolicName() {
        return symbolicName;
    }

    Version getVersion() {
        return version;
    }

    int getState() {
        return state;
    }

    Dictionary<String, String> getHeaders(String locale) {
        return headers;
    }

    @SuppressWarnings("unchecked")
    <A> A adapt(Class<A> type) {
        return type == BundleRevision.class ? (A) revision : null;
    }

    void stop() {
        stopped.countDown();
    }

    @Override
    public String toString() {
        return symbolicName + " " + version;
    }
}

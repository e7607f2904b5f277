package dev.slipway.testing;

import java.util.Dictionary;
import java.util.Hashtable;

import org.osgi.framework.Version;

/**
 * What every fake bundle answers: its id, symbolic name, version, state and headers. A test's own
 * fake extends it with the calls its subject makes and is handed out through {@link Fake#of}.
 */
public class FakeBundleBasics {

    public final long id;
    public final String symbolicName;
    public final Version version;
    public volatile int state;
    public final Hashtable<String, String> headers = new Hashtable<>();

    public FakeBundleBasics(long id, String symbolicName, String version, int state) {
        this.id = id;
        this.symbolicName = symbolicName;
        this.version = Version.parseVersion(version);
        this.state = state;
    }

    public long getBundleId() {
        return id;
    }

    public String getSymbolicName() {
        return symbolicName;
    }

    public Version getVersion() {
        return version;
    }

    public int getState() {
        return state;
    }

    public Dictionary<String, String> getHeaders(String locale) {
        return headers;
    }

    @Override
    public String toString() {
        return symbolicName + " " + version;
    }
}

package dev.slipway.api.control;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A section of {@code slipway status --json}. Register it with the property {@value #KEY}; its
 * {@link #status()} value (maps, lists, strings, numbers, booleans) appears under that key.
 */
@ConsumerType
public interface StatusContributor {

    /** Service property: the key of the section in the status document, e.g. {@code net}. */
    String KEY = "slipway.status.key";

    /** A snapshot, safe to serialize; called on the control API's thread. */
    Object status();
}

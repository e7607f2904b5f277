package dev.slipway.api.handover;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an outgoing version leaves for the incoming one: a format version the incoming version
 * checks before it reads anything, the items themselves (JDK types only), and what to do with them
 * when nobody takes them.
 *
 * @param owner whose state it is: the bundle symbolic name, or {@code BSN/part} when several
 *        components of one bundle hand over state of their own
 * @param formatVersion the version of the layout of {@code items}; an incoming version that cannot
 *        read it refuses the whole state
 * @param items the state, by name; values are JDK types (channels, descriptors, strings, numbers,
 *        byte arrays, lists and maps of those)
 * @param summary what the state holds, for {@code slipway status} (e.g. {@code "2 listeners"})
 * @param reset closes and resets everything in {@code items} cleanly (peers get a reset, not a
 *        hang); run by the parking service when the state is refused or nobody claims it. It must
 *        not load classes the outgoing version has not loaded yet: its bundle may be gone by then.
 */
public record HandoverState(String owner, int formatVersion, Map<String, Object> items, List<String> summary, Runnable reset) {

    public HandoverState {
        Objects.requireNonNull(owner, "owner");
        Objects.requireNonNull(reset, "reset");
        items = Map.copyOf(items);
        summary = List.copyOf(summary);
    }

    /** An item by name and type, or {@code null} when it is absent or of another type. */
    public <T> T item(String name, Class<T> type) {
        Object value = items.get(name);
        return type.isInstance(value) ? type.cast(value) : null;
    }
}

package dev.slipway.deploy;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.handover.HandoverClaim;
import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.handover.HandoverState;

/**
 * Holds an updated bundle's state between its outgoing and its incoming version. The deploy bundle
 * announces each restart it drives ({@link #expect}), waits for the incoming version's verdict
 * ({@link #awaitOutcome}) and ends the restart ({@link #finish}); a state nobody took by then is reset.
 *
 * <p>An accepted state stays here until the restart ends: when the incoming version fails after it
 * took the state, it deposits what it holds then (the claimant giving back, see
 * {@link HandoverClaim}), which replaces the accepted state without a reset and marks the update as
 * failed ({@link #givenBack}); a rollback ({@link #reopen}) then lets the outgoing version claim it.
 */
@Component(service = {HandoverParking.class, StateParking.class})
public final class StateParking implements HandoverParking {

    private static final Logger LOG = LoggerFactory.getLogger(StateParking.class);

    /** How a restart ended for the state: what the incoming version said, or that nothing was parked. */
    record Outcome(Kind kind, String reason, List<String> handedOver, List<String> reset) {
        enum Kind { NOTHING_PARKED, ACCEPTED, REFUSED, RELEASED, NOT_CLAIMED }

        boolean failed() {
            return kind == Kind.RELEASED || kind == Kind.NOT_CLAIMED;
        }
    }

    private final Map<String, Boolean> expected = new ConcurrentHashMap<>();
    private final Map<String, Parked> parked = new ConcurrentHashMap<>();
    /** Bundles whose incoming version gave back a state it had claimed: why, for the update's record. */
    private final Map<String, String> givenBack = new ConcurrentHashMap<>();

    private static final class Parked {
        final HandoverState state;
        volatile boolean claimed;
        /** Taken by the incoming version: its items are the incoming version's until it gives them back. */
        volatile boolean accepted;
        /** Reset (refused): nothing is left to reset. */
        volatile boolean settled;
        volatile CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        volatile List<String> summary;

        Parked(HandoverState state) {
            this.state = state;
            this.summary = state.summary();
        }
    }

    void expect(String symbolicName) {
        expected.put(symbolicName, Boolean.TRUE);
    }

    @Override
    public boolean restartExpected(String symbolicName) {
        return expected.containsKey(symbolicName);
    }

    /** The bundle an owner belongs to: {@code BSN} or {@code BSN/part}. */
    static String bundleOf(String owner) {
        int slash = owner.indexOf('/');
        return slash < 0 ? owner : owner.substring(0, slash);
    }

    private List<Map.Entry<String, Parked>> partsOf(String symbolicName) {
        return parked.entrySet().stream().filter(e -> bundleOf(e.getKey()).equals(symbolicName)).toList();
    }

    @Override
    public void deposit(HandoverState state) {
        if (!expected.containsKey(bundleOf(state.owner()))) {
            LOG.warn("state of {} deposited while no update of it runs: reset", state.owner());
            runReset(state);
            return;
        }
        Parked previous = parked.put(state.owner(), new Parked(state));
        if (previous != null && previous.state != state && previous.claimed && !previous.settled) {
            // the version that claimed it gives it back: the claimed items are in this deposit now
            String why = state.owner() + " was given back by the version that " + (previous.accepted ? "took" : "claimed") + " it";
            givenBack.merge(bundleOf(state.owner()), why, (a, b) -> a + "; " + b);
            previous.outcome.complete(new Outcome(Outcome.Kind.RELEASED, why, List.of(), List.of()));
            LOG.warn("hand-over: {} (format {}: {})", why, state.formatVersion(), String.join(", ", state.summary()));
            return;
        }
        if (previous != null && previous.state != state && !previous.settled) {
            runReset(previous.state);
        }
        LOG.info("hand-over: {} parked its state (format {}: {})", state.owner(), state.formatVersion(), String.join(", ", state.summary()));
    }

    /**
     * Why the incoming version of {@code symbolicName} gave back a state it had claimed in this
     * restart, or {@code null}: it is going, and the update must be rolled back.
     */
    String givenBack(String symbolicName) {
        return givenBack.get(symbolicName);
    }

    @Override
    public HandoverClaim claim(String symbolicName) {
        Parked entry = parked.get(symbolicName);
        if (entry == null) {
            return null;
        }
        synchronized (entry) {
            if (entry.claimed || entry.settled) {
                return null;
            }
            entry.claimed = true;
        }
        return new Claim(symbolicName, entry);
    }

    /**
     * The incoming version's verdict on the parked state: at once when nothing is parked, else once it
     * accepts, refuses or releases the state, or {@link Outcome.Kind#NOT_CLAIMED} after {@code timeoutMs}.
     */
    Outcome awaitOutcome(String symbolicName, long timeoutMs) throws InterruptedException {
        String back = givenBack.get(symbolicName);
        if (back != null) {
            return new Outcome(Outcome.Kind.RELEASED, back, List.of(), List.of());
        }
        List<Map.Entry<String, Parked>> parts = partsOf(symbolicName);
        if (parts.isEmpty()) {
            return new Outcome(Outcome.Kind.NOTHING_PARKED, null, List.of(), List.of());
        }
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        List<String> handedOver = new java.util.ArrayList<>();
        List<String> reset = new java.util.ArrayList<>();
        Outcome.Kind kind = Outcome.Kind.ACCEPTED;
        List<String> reasons = new java.util.ArrayList<>();
        for (Map.Entry<String, Parked> part : parts) {
            Outcome outcome;
            try {
                outcome = part.getValue().outcome.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                outcome = new Outcome(Outcome.Kind.NOT_CLAIMED, part.getKey() + ": the new version did not take the state within "
                        + timeoutMs + " ms", List.of(), part.getValue().summary);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
            handedOver.addAll(outcome.handedOver());
            reset.addAll(outcome.reset());
            if (outcome.reason() != null) {
                reasons.add(outcome.reason());
            }
            if (outcome.failed()) {
                kind = outcome.kind();
            } else if (outcome.kind() == Outcome.Kind.REFUSED && !kind.equals(Outcome.Kind.RELEASED) && !kind.equals(Outcome.Kind.NOT_CLAIMED)) {
                kind = Outcome.Kind.REFUSED;
            }
        }
        back = givenBack.get(symbolicName);
        if (back != null && !kind.equals(Outcome.Kind.NOT_CLAIMED)) {
            return new Outcome(Outcome.Kind.RELEASED, back, List.of(), reset);
        }
        return new Outcome(kind, reasons.isEmpty() ? null : String.join("; ", reasons), handedOver, reset);
    }

    /** The update succeeded: the incoming version keeps what it accepted for good. */
    void done(String symbolicName) {
        givenBack.remove(symbolicName);
        for (Map.Entry<String, Parked> part : partsOf(symbolicName)) {
            if (part.getValue().accepted) {
                parked.remove(part.getKey(), part.getValue());
            }
        }
    }

    /**
     * Prepares the parked states for a second claim after a failed update, once the incoming version
     * is gone (it gave back what it took when it stopped): the outgoing version, started again, takes
     * them. A state the incoming version accepted and did not give back is lost: its reset runs.
     *
     * @return what was lost, for the update's record
     */
    List<String> reopen(String symbolicName) {
        givenBack.remove(symbolicName);
        List<String> lost = new java.util.ArrayList<>();
        for (Map.Entry<String, Parked> part : partsOf(symbolicName)) {
            Parked entry = part.getValue();
            synchronized (entry) {
                if (entry.accepted) {
                    parked.remove(part.getKey(), entry);
                    LOG.error("hand-over: the new version took the state of {} and went without giving it back: reset", part.getKey());
                    runReset(entry.state);
                    lost.addAll(entry.summary);
                    continue;
                }
                entry.claimed = false;
                entry.outcome = new CompletableFuture<>();
            }
        }
        return lost;
    }

    /** Ends a restart: no more deposits are expected, and a state nobody took is reset. */
    void finish(String symbolicName) {
        expected.remove(symbolicName);
        givenBack.remove(symbolicName);
        for (Map.Entry<String, Parked> part : partsOf(symbolicName)) {
            parked.remove(part.getKey(), part.getValue());
            if (!part.getValue().settled && !part.getValue().accepted) {
                LOG.warn("hand-over: nobody took the state of {}: reset", part.getKey());
                runReset(part.getValue().state);
            }
        }
    }

    @Deactivate
    void deactivate() {
        expected.clear();
        givenBack.clear();
        parked.values().stream().filter(p -> !p.settled && !p.accepted).forEach(p -> runReset(p.state));
        parked.clear();
    }

    private static void runReset(HandoverState state) {
        try {
            state.reset().run();
        } catch (RuntimeException | LinkageError e) {
            LOG.error("resetting the state of {} failed", state.owner(), e);
        }
    }

    private final class Claim implements HandoverClaim {
        private final String symbolicName;
        private final Parked entry;
        private boolean ended;

        Claim(String symbolicName, Parked entry) {
            this.symbolicName = symbolicName;
            this.entry = entry;
        }

        @Override
        public HandoverState state() {
            return entry.state;
        }

        @Override
        public synchronized void accept(List<String> handedOver, List<String> reset) {
            end();
            entry.accepted = true;
            entry.outcome.complete(new Outcome(Outcome.Kind.ACCEPTED, null, List.copyOf(handedOver), List.copyOf(reset)));
        }

        @Override
        public synchronized void refuse(String reason) {
            end();
            entry.settled = true;
            LOG.warn("hand-over: the new version of {} refused the state ({}): reset", symbolicName, reason);
            runReset(entry.state);
            entry.outcome.complete(new Outcome(Outcome.Kind.REFUSED, reason, List.of(), entry.summary));
        }

        @Override
        public synchronized void release(String reason) {
            end();
            entry.outcome.complete(new Outcome(Outcome.Kind.RELEASED, reason, List.of(), List.of()));
        }

        private void end() {
            if (ended) {
                throw new IllegalStateException("the claim on the state of " + symbolicName + " has already ended");
            }
            ended = true;
        }
    }
}

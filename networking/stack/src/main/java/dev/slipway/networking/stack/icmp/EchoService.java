package dev.slipway.networking.stack.icmp;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.loop.EventLoop;
import dev.slipway.networking.stack.loop.Timer;

/** The {@link EchoRelay} on the stack's event loop: its sockets watched by the loop's selector, its idle flows closed by a loop timer. */
public final class EchoService {
    private EchoService() {
    }

    /**
     * A relay over the host's ping sockets where the Linux natives are there (else one that declines
     * and says why), registered with {@code loop}. Takes the loop's lock.
     */
    public static EchoRelay start(EventLoop loop, IcmpOutput output, CidrList refused, int gateway4) {
        PingSockets sockets = null;
        String why = null;
        try {
            sockets = NativePingSockets.open();
        } catch (IOException e) {
            why = "cannot watch ping sockets: " + e.getMessage();
        } catch (LinkageError e) {
            why = "ping sockets need the Linux native calls, absent here (" + e.getMessage() + ")";
        }
        EchoRelay relay = new EchoRelay(sockets, why, output, refused, gateway4, EchoRelay.DEFAULT_MAX_FLOWS,
                EchoRelay.DEFAULT_IDLE_NANOS, System.nanoTime());
        Timer expiry = new Timer() {
            @Override
            protected void expired(long now) {
                long next = relay.expire(now);
                if (next != Long.MAX_VALUE) {
                    loop.schedule(this, next);
                }
            }
        };
        relay.expiryWanted(deadline -> {
            if (!expiry.scheduled() || expiry.deadline() > deadline) {
                loop.schedule(expiry, deadline);
            }
        });
        SelectableChannel readiness = relay.readiness();
        if (readiness != null) {
            loop.lock();
            try {
                loop.register(readiness, SelectionKey.OP_READ, key -> relay.ready(System.nanoTime()));
            } catch (IOException e) {
                relay.close();
                throw new UncheckedIOException("cannot watch the ping sockets", e);
            } finally {
                loop.unlock();
            }
        }
        return relay;
    }
}

package dev.slipway.networking.stack;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;

import dev.slipway.networking.stack.icmp.EchoRelay;
import dev.slipway.networking.stack.icmp.IcmpOutput;
import dev.slipway.networking.stack.icmp.NativePingSockets;
import dev.slipway.networking.stack.icmp.PingSockets;

/** The stack's side of the {@link EchoRelay}: its ICMP messages sent to the guest, its sockets watched by the event loop. */
final class GuestEcho implements IcmpOutput {
    private static final int MAX_ICMP = 65535 - 20;
    private final NetStack stack;

    private GuestEcho(NetStack stack) {
        this.stack = stack;
    }

    /** A relay over the host's ping sockets where there are some, its readiness registered with the stack's selector. */
    static EchoRelay start(NetStack stack) {
        PingSockets sockets = null;
        String why = null;
        try {
            sockets = NativePingSockets.open();
        } catch (IOException e) {
            why = "cannot watch ping sockets: " + e.getMessage();
        } catch (LinkageError e) {
            why = "ping sockets need the Linux native calls, absent here (" + e.getMessage() + ")";
        }
        EchoRelay relay = new EchoRelay(sockets, why, new GuestEcho(stack), stack.refused, stack.config.gateway(),
                EchoRelay.DEFAULT_MAX_FLOWS, EchoRelay.DEFAULT_IDLE_NANOS, System.nanoTime());
        SelectableChannel readiness = relay.readiness();
        if (readiness != null) {
            try {
                readiness.register(stack.selector, SelectionKey.OP_READ, relay);
            } catch (IOException e) {
                relay.close();
                throw new java.io.UncheckedIOException("cannot watch the ping sockets", e);
            }
        }
        return relay;
    }

    @Override
    public void icmp4(int from, int to, ByteBuffer message, int length) {
        if (length > MAX_ICMP) {
            stack.stats.drop(Drop.OVERSIZED);
            return;
        }
        ByteBuffer o = stack.aux;
        o.clear();
        int icmp = NetStack.IP_OFF + 20;
        o.put(icmp, message, 0, length);
        o.putShort(icmp + 2, (short) Checksum.compute(o, icmp, length));
        stack.ipHeader(o, 20 + length, NetStack.PROTO_ICMP, from, to, false);
        stack.sendToGuest(o, icmp + length);
    }

    @Override
    public void icmp6(long fromHi, long fromLo, long toHi, long toLo, ByteBuffer message, int length) {
        stack.stats.drop(Drop.IPV6_UNSUPPORTED);
    }
}

package dev.slipway.networking.stack.udp;

import java.nio.ByteBuffer;

import dev.slipway.networking.stack.host.HostDatagrams;
import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.IpProtocols;
import dev.slipway.networking.stack.ip.Unreachable;

/** A guest's UDP flow to a host destination, and what its host endpoint reports. */
final class UdpFlow implements HostDatagrams.Events {
    private final Udp udp;
    final FlowKey key;
    HostDatagrams host;
    long lastActive;

    UdpFlow(Udp udp, FlowKey key) {
        this.udp = udp;
        this.key = key;
        this.lastActive = System.nanoTime();
    }

    @Override
    public ByteBuffer receiveBuffer() {
        ByteBuffer o = udp.output.buffer();
        int payload = udp.output.l4Offset(key.family) + 8;
        o.clear().limit(payload + Udp.MAX_DATAGRAM).position(payload);
        return o;
    }

    @Override
    public void received(int length) {
        lastActive = System.nanoTime();
        udp.datagramsToGuest++;
        udp.bytesToGuest += length;
        udp.sendToGuest(key, length);
    }

    /** The host said port unreachable: tell the guest with an ICMP error quoting a datagram of the flow. */
    @Override
    public void portUnreachable() {
        long quoted = (long) key.guestPort << 48 | (long) key.dstPort << 32 | 8L << 16;
        udp.output.unreachable(key, IpProtocols.UDP, quoted, Unreachable.PORT);
    }

    @Override
    public void failed() {
        udp.close(this);
    }
}

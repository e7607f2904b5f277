package dev.slipway.networking.stack.it;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.ip.Checksum;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.icmp.EchoRelay;
import dev.slipway.networking.stack.icmp.IcmpOutput;
import dev.slipway.networking.stack.icmp.NativePingSockets;

/**
 * The echo relay over the host's real ping sockets, alone, in a child JVM (run as a test user):
 * relays one echo request (identifier 0x2222, sequence 5) to the address given and prints what
 * would reach the guest, or that the relay declined and why.
 */
public final class EchoProbeMain {
    static final int GUEST = Ip4.parse("192.168.65.3");

    private EchoProbeMain() {
    }

    public static void main(String[] args) throws Exception {
        int destination = Ip4.parse(args[0]);
        IcmpOutput print = new IcmpOutput() {
            @Override
            public void icmp4(int from, int to, ByteBuffer m, int length) {
                System.out.println("to-guest type=" + (m.get(0) & 0xff) + " from=" + Ip4.toString(from) + " to=" + Ip4.toString(to)
                        + " id=" + Integer.toHexString(m.getShort(4) & 0xffff) + " seq=" + m.getShort(6) + " length=" + length);
            }

            @Override
            public void icmp6(long fromHi, long fromLo, long toHi, long toLo, ByteBuffer m, int length) {
                System.out.println("to-guest v6 type=" + (m.get(0) & 0xff));
            }
        };
        try (EchoRelay relay = new EchoRelay(NativePingSockets.open(), null, print, CidrList.cloudMetadata(), Ip4.parse("192.168.65.1"),
                4, EchoRelay.DEFAULT_IDLE_NANOS, System.nanoTime()); Selector selector = Selector.open()) {
            relay.readiness().register(selector, SelectionKey.OP_READ);
            ByteBuffer request = ByteBuffer.allocateDirect(16);
            request.put(0, (byte) 8).putShort(4, (short) 0x2222).putShort(6, (short) 5).putLong(8, 0x0102030405060708L);
            request.putShort(2, (short) Checksum.compute(request, 0, 16));
            if (!relay.echo4(request, 0, 16, GUEST, destination, 64, System.nanoTime())) {
                System.out.println("declined " + relay.status().get("echo"));
                return;
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (relay.status().get("replies").equals(0L) && System.nanoTime() < deadline) {
                selector.select(500);
                selector.selectedKeys().clear();
                relay.ready(System.nanoTime());
            }
            System.out.println("status " + relay.status());
        }
    }
}

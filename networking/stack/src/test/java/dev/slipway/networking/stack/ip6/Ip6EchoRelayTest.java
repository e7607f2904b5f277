package dev.slipway.networking.stack.ip6;

import static dev.slipway.networking.stack.ip6.Guest6.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.Drop;
import dev.slipway.networking.stack.icmp.EchoRelay;
import dev.slipway.networking.stack.icmp.IcmpOutput;
import dev.slipway.networking.stack.icmp.PingChannel;
import dev.slipway.networking.stack.icmp.PingReceipt;
import dev.slipway.networking.stack.icmp.PingSockets;

/** The IPv6 layer's seam to the echo relay: requests for other addresses leave through a ping socket, replies and errors come back. */
class Ip6EchoRelayTest {
    static final int KERNEL_ID = 0x4001;
    static final long[] ROUTER = Ip6.parse("2001:db8:ffff::1");

    final Guest6 g = new Guest6();
    final Sockets sockets = new Sockets();
    final EchoRelay relay = new EchoRelay(sockets, null, new IcmpOutput() {
        @Override
        public void icmp4(int from, int to, ByteBuffer message, int length) {
            throw new AssertionError("no IPv4 here");
        }

        @Override
        public void icmp6(long fromHi, long fromLo, long toHi, long toLo, ByteBuffer message, int length) {
            g.layer.sendIcmp(fromHi, fromLo, toHi, toLo, message, length);
        }
    }, CidrList.cloudMetadata(), 0, 8, 30_000_000_000L, 0);

    Ip6EchoRelayTest() {
        relay.gateway6(GATEWAY[0], GATEWAY[1]);
        g.layer.echoRelay(relay);
    }

    @Test
    void anEchoToAnotherAddressLeavesThroughAPingSocketAndTheReplyComesBackWithTheGuestsIdentifier() {
        byte[] data = "far away".getBytes();
        g.receive(echo(GUEST, INTERNET, 0x1234, 7, data));
        assertEquals(0, g.sent.size(), "not answered by the gateway itself");
        Channel socket = sockets.channels.get(0);
        assertEquals(63, socket.hopLimit, "one hop spent at the gateway");
        assertEquals(INTERNET[1], socket.destinationLo);
        assertEquals(128, socket.sent[0] & 0xff);

        socket.queue.add(new Object[] {reply(socket.sent), null});
        relay.ready(1);
        ByteBuffer r = g.last();
        assertEquals(129, r.get(54) & 0xff);
        assertEquals(0x1234, r.getShort(58) & 0xffff, "the guest's identifier, not the kernel's");
        assertEquals(7, r.getShort(60));
        assertEquals(INTERNET[1], r.getLong(30), "from the destination");
        assertEquals(GUEST[1], r.getLong(46));
        assertEquals(GUEST_MAC, r.getLong(0) >>> 16);
        byte[] back = new byte[data.length];
        r.get(62, back);
        assertEquals(new String(data), new String(back));
        assertTrue(checksumOk(r));
    }

    @Test
    void aTimeExceededFromARouterReachesTheGuestQuotingItsRequest() {
        g.receive(echo(GUEST, INTERNET, 0x2222, 1, new byte[16]));
        Channel socket = sockets.channels.get(0);
        socket.queue.add(new Object[] {socket.sent.clone(), new int[] {PingReceipt.ORIGIN_ICMP6, Icmp6.TIME_EXCEEDED, 0}});
        relay.ready(1);
        ByteBuffer e = g.last();
        assertEquals(Icmp6.TIME_EXCEEDED, e.get(54));
        assertEquals(ROUTER[1], e.getLong(30), "from the router that reported it");
        assertEquals(0x6000_0000, e.getInt(62), "quotes an IPv6 header");
        assertEquals(INTERNET[1], e.getLong(62 + 32), "of the request to the destination");
        assertEquals(128, e.get(102) & 0xff);
        assertEquals(0x2222, e.getShort(106) & 0xffff, "with the guest's identifier");
        assertTrue(checksumOk(e));
    }

    @Test
    void aDestinationTheHostCannotReachIsAnsweredUnreachableByTheGateway() {
        sockets.sendResult = -PingReceipt.ENETUNREACH;
        g.receive(echo(GUEST, INTERNET, 0x3333, 1, new byte[8]));
        ByteBuffer e = g.last();
        assertEquals(Icmp6.DESTINATION_UNREACHABLE, e.get(54));
        assertEquals(Icmp6.NO_ROUTE, e.get(55));
        assertEquals(GATEWAY[1], e.getLong(30));
        assertTrue(checksumOk(e));
    }

    @Test
    void linkLocalAndMulticastDestinationsAreNotRelayedAndTheGatewayStillAnswersItself() {
        g.receive(echo(GUEST_LL, new long[] {Ip6.LINK_LOCAL_PREFIX, 0x99}, 1, 1, new byte[8]));
        g.receive(echo(GUEST, ALL_NODES, 1, 1, new byte[8]));
        assertEquals(0, sockets.channels.size());
        assertEquals(1, g.drops(Drop.ICMP_IGNORED));
        g.receive(echo(GUEST, GATEWAY, 1, 2, new byte[8]));
        assertEquals(129, g.last().get(54) & 0xff);
        assertEquals(0, sockets.channels.size());
    }

    @Test
    void aReplyForAGuestWhoseAddressIsUnknownAsksForItInsteadOfGuessing() {
        long[] stranger = {PREFIX, 0x77};
        relay.echo6(echo(stranger, INTERNET, 5, 1, new byte[8]), 54, 16, stranger[0], stranger[1], INTERNET[0], INTERNET[1], 64, 0);
        Channel socket = sockets.channels.get(0);
        socket.queue.add(new Object[] {reply(socket.sent), null});
        relay.ready(1);
        assertEquals(1, g.drops(Drop.NO_GUEST_MAC));
        assertEquals(135, g.last().get(54) & 0xff, "a neighbour solicitation for it");
    }

    private static byte[] reply(byte[] request) {
        byte[] r = request.clone();
        r[0] = (byte) 129;
        return r;
    }

    /** Ping sockets in memory: the kernel's identifier in what leaves, replies and errors queued by the test. */
    static final class Sockets implements PingSockets {
        final List<Channel> channels = new ArrayList<>();
        int sendResult;

        @Override
        public PingChannel open(boolean v6, int token) {
            Channel c = new Channel(token, this);
            if (token >= 0) {
                assertTrue(v6);
                channels.add(c);
            }
            return c;
        }

        @Override
        public PingChannel adopt(int descriptor, boolean v6, int token) {
            throw new UnsupportedOperationException("not handed over in these tests");
        }

        @Override
        public SelectableChannel readiness() {
            return null;
        }

        @Override
        public int ready(int[] tokens) {
            int n = 0;
            for (Channel c : channels) {
                if (!c.queue.isEmpty()) {
                    tokens[n++] = c.token;
                }
            }
            return n;
        }

        @Override
        public void close() {
        }
    }

    static final class Channel implements PingChannel {
        final int token;
        final Sockets owner;
        final ArrayDeque<Object[]> queue = new ArrayDeque<>();
        int hopLimit;
        long destinationLo;
        byte[] sent;

        Channel(int token, Sockets owner) {
            this.token = token;
            this.owner = owner;
        }

        @Override
        public void ttl(int ttl) {
            hopLimit = ttl;
        }

        @Override
        public int send(ByteBuffer message, int length, long hi, long lo) {
            if (owner.sendResult < 0) {
                return owner.sendResult;
            }
            sent = new byte[length];
            message.get(0, sent);
            sent[4] = (byte) (KERNEL_ID >> 8);
            sent[5] = (byte) KERNEL_ID;
            destinationLo = lo;
            return length;
        }

        @Override
        public int letGo() {
            return -1;
        }

        @Override
        public int receive(ByteBuffer into, int capacity, PingReceipt receipt) {
            Object[] next = queue.poll();
            if (next == null) {
                return -PingReceipt.EAGAIN;
            }
            byte[] data = (byte[]) next[0];
            into.put(0, data);
            if (next[1] == null) {
                receipt.reply(INTERNET[0], INTERNET[1]);
            } else {
                int[] e = (int[]) next[1];
                receipt.error(e[0], e[1], e[2], true, ROUTER[0], ROUTER[1]);
            }
            return data.length;
        }

        @Override
        public void close() {
        }
    }
}

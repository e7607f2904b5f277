package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.stack.loop.EventLoop;

/** A connected host UDP socket under a guest flow. */
final class SocketDatagrams implements HostDatagrams, EventLoop.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(SocketDatagrams.class);
    /** Datagrams read per readiness event, so one busy flow does not starve the rest. */
    private static final int READS_PER_EVENT = 64;
    private final EventLoop loop;
    private final DatagramChannel channel;
    private final Events events;

    private SocketDatagrams(EventLoop loop, DatagramChannel channel, Events events) {
        this.loop = loop;
        this.channel = channel;
        this.events = events;
    }

    static SocketDatagrams open(EventLoop loop, InetSocketAddress target, Events events) throws IOException {
        DatagramChannel channel = DatagramChannel.open();
        try {
            channel.configureBlocking(false);
            channel.connect(target);
            SocketDatagrams d = new SocketDatagrams(loop, channel, events);
            d.key = loop.register(channel, SelectionKey.OP_READ, d);
            return d;
        } catch (IOException | RuntimeException e) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already failing: the caller tells the guest
            }
            throw e;
        }
    }

    /** Goes on with a connected host UDP socket a previous version of the stack handed over. */
    static SocketDatagrams adopt(EventLoop loop, DatagramChannel channel, Events events) throws IOException {
        channel.configureBlocking(false);
        SocketDatagrams d = new SocketDatagrams(loop, channel, events);
        d.key = loop.register(channel, SelectionKey.OP_READ, d);
        return d;
    }

    private SelectionKey key;
    private boolean handedOver;

    @Override
    public Object handOver() {
        if (handedOver || !channel.isOpen()) {
            return null;
        }
        handedOver = true;
        if (key != null) {
            key.cancel();
        }
        return channel;
    }

    @Override
    public void ready(SelectionKey key) {
        if (handedOver || !key.isValid() || !key.isReadable()) {
            return;
        }
        for (int i = 0; i < READS_PER_EVENT; i++) {
            ByteBuffer b = events.receiveBuffer();
            int n;
            try {
                n = channel.read(b);
            } catch (PortUnreachableException e) {
                events.portUnreachable();
                return;
            } catch (IOException e) {
                close();
                events.failed();
                return;
            }
            if (n <= 0) {
                return;
            }
            events.received(n);
        }
    }

    @Override
    public void send(ByteBuffer payload) throws IOException {
        channel.write(payload);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a UDP flow", e);
        }
        loop.wakeup(); // the selector lets the socket go when it next selects
    }
}

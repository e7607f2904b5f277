package dev.slipway.networking.stack.host;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.networking.stack.loop.EventLoop;

/** A host TCP socket under a guest connection, driven by the event loop. */
final class SocketStream implements HostStream, EventLoop.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(SocketStream.class);
    private final EventLoop loop;
    private final SocketChannel channel;
    private final Events events;
    private SelectionKey key;
    private int interest;
    private boolean connecting;
    private boolean closed;
    private boolean outputShut;

    private SocketStream(EventLoop loop, SocketChannel channel, Events events) {
        this.loop = loop;
        this.channel = channel;
        this.events = events;
    }

    /** Connects {@code channel} (open, non-blocking) to {@code target}; the stream owns it from here. */
    static SocketStream connect(EventLoop loop, SocketChannel channel, InetSocketAddress target, Events events) throws IOException {
        SocketStream s = new SocketStream(loop, channel, events);
        try {
            boolean connected = channel.connect(target);
            if (!connected) {
                // loopback handshakes are usually done by now: saves a trip through the selector
                connected = channel.finishConnect();
            }
            s.connecting = !connected;
            s.interest = connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT;
            s.key = loop.register(channel, s.interest, s);
            return s;
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** Takes over an accepted host connection (a published port's). */
    static SocketStream accepted(EventLoop loop, SocketChannel channel, Events events) throws IOException {
        channel.configureBlocking(false);
        SocketStream s = new SocketStream(loop, channel, events);
        s.interest = SelectionKey.OP_READ;
        s.key = loop.register(channel, s.interest, s);
        return s;
    }

    /** The names in a handed-over host socket's description. */
    static final String CHANNEL = "channel", CONNECTING = "connecting", OUTPUT_SHUT = "outputShut", INTEREST = "interest";

    /** Goes on with a host socket a previous version of the stack handed over ({@link #handOver()}). */
    static SocketStream adopt(EventLoop loop, java.util.Map<?, ?> handed, Events events) throws IOException {
        if (!(handed.get(CHANNEL) instanceof SocketChannel channel) || !(handed.get(CONNECTING) instanceof Boolean connecting)
                || !(handed.get(OUTPUT_SHUT) instanceof Boolean outputShut) || !(handed.get(INTEREST) instanceof Integer interest)) {
            throw new IOException("not a host socket's description: " + handed.keySet());
        }
        SocketStream s = new SocketStream(loop, channel, events);
        s.connecting = connecting;
        s.outputShut = outputShut;
        s.interest = interest;
        channel.configureBlocking(false);
        s.key = loop.register(channel, interest, s);
        return s;
    }

    @Override
    public Object handOver() {
        if (closed || !channel.isOpen()) {
            return null;
        }
        closed = true;
        if (key != null) {
            key.cancel();
        }
        return java.util.Map.of(CHANNEL, channel, CONNECTING, connecting, OUTPUT_SHUT, outputShut, INTEREST, interest);
    }

    @Override
    public void ready(SelectionKey k) {
        if (closed || !k.isValid()) {
            return;
        }
        int ready = k.readyOps();
        if ((ready & SelectionKey.OP_CONNECT) != 0) {
            try {
                if (!channel.finishConnect()) {
                    return;
                }
            } catch (ConnectException e) {
                connecting = false;
                events.connectFailed(true);
                return;
            } catch (IOException e) {
                connecting = false;
                events.connectFailed(false);
                return;
            }
            connecting = false;
            setInterest(SelectionKey.OP_READ);
            events.connected();
            return;
        }
        if ((ready & SelectionKey.OP_WRITE) != 0) {
            events.writable();
        }
        if (!closed && (ready & SelectionKey.OP_READ) != 0) {
            events.readable();
        }
    }

    @Override
    public boolean connecting() {
        return connecting;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public void readInterest(boolean on) {
        setInterest(on ? interest | SelectionKey.OP_READ : interest & ~SelectionKey.OP_READ);
    }

    @Override
    public void writeInterest(boolean on) {
        setInterest(on ? interest | SelectionKey.OP_WRITE : interest & ~SelectionKey.OP_WRITE);
    }

    private void setInterest(int ops) {
        if (ops == interest || closed || key == null) {
            return;
        }
        boolean adding = (ops & ~interest) != 0;
        interest = ops;
        try {
            key.interestOps(ops);
        } catch (RuntimeException e) {
            return;
        }
        if (adding) {
            loop.wakeup();
        }
    }

    @Override
    public void shutdownOutput() {
        if (outputShut || closed) {
            return;
        }
        outputShut = true;
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            LOG.debug("shutting down a host connection's output", e);
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(channel);
        releaseSoon();
    }

    /**
     * A closed channel keeps its socket until the selector it is registered with selects again;
     * the loop has no tick, so it is woken (once per batch of frames at most) to let it go now.
     */
    private void releaseSoon() {
        loop.wakeup();
    }

    @Override
    public void abort() {
        closed = true;
        try {
            if (channel.isConnected()) {
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("setting SO_LINGER", e);
        }
        closeQuietly(channel);
        releaseSoon();
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("closing a host connection", e);
        }
    }
}

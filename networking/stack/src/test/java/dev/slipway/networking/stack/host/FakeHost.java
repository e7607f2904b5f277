package dev.slipway.networking.stack.host;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

import dev.slipway.networking.stack.ip.FlowKey;
import dev.slipway.networking.stack.ip.PacketContext.Destination;

/**
 * An in-memory host for TCP: every connection gets a {@link Stream} the test drives (connect or
 * refuse it, feed it bytes, end it, make it slow). All calls with the loop's lock held, as the stack does.
 */
public final class FakeHost implements HostConnector {
    /** How new connections behave. */
    public enum Mode { CONNECT_AT_ONCE, CONNECT_LATER, REFUSE_BY_POLICY, REFUSE_BY_HOST, UNREACHABLE }

    public Mode mode = Mode.CONNECT_AT_ONCE;
    public final List<Stream> streams = new ArrayList<>();

    @Override
    public HostStream openStream(FlowKey k, Destination destination, HostStream.Events events) throws IOException {
        switch (mode) {
            case REFUSE_BY_POLICY -> {
                return null;
            }
            case REFUSE_BY_HOST -> throw new java.net.ConnectException("refused");
            case UNREACHABLE -> throw new java.net.NoRouteToHostException("no route");
            default -> {
                Stream s = new Stream(k.copy(), events, mode == Mode.CONNECT_LATER);
                streams.add(s);
                return s;
            }
        }
    }

    @Override
    public HostStream accepted(SocketChannel channel, HostStream.Events events) {
        Stream s = new Stream(null, events, false);
        streams.add(s);
        return s;
    }

    /**
     * Takes a stream another fake host's stack handed over: the same in-memory connection, now
     * telling the adopting stack's connection.
     */
    @Override
    public HostStream adopt(Object handedOver, FlowKey k, HostStream.Events events) throws IOException {
        if (!(handedOver instanceof java.util.Map<?, ?> m) || !(m.get(HANDED_STREAM) instanceof Stream s)) {
            throw new IOException("not a fake stream: " + handedOver);
        }
        s.events = events;
        s.handedOver = false;
        streams.add(s);
        return s;
    }

    static final String HANDED_STREAM = "fakeStream";

    public Stream last() {
        return streams.get(streams.size() - 1);
    }

    /** One host-side connection. */
    public static final class Stream implements HostStream {
        public final FlowKey key;
        private Events events;
        /** Whether {@link HostStream#handOver()} refuses, as an endpoint that cannot be handed over does. */
        public boolean refuseHandOver;
        /** Handed over to another stack and not yet adopted: the old stack must not touch it. */
        public boolean handedOver;
        /** Whether the stack that handed this stream over touched it afterwards. */
        public boolean touchedAfterHandOver;
        private boolean connecting;
        /** What the guest sent, as the host received it. */
        public final ByteArrayOutputStream received = new ByteArrayOutputStream();
        private final ByteArrayOutputStream toGuest = new ByteArrayOutputStream();
        private int toGuestRead;
        /** How many more bytes the host takes before it stops reading (a slow peer). */
        public int writeRoom = Integer.MAX_VALUE;
        public boolean eof, readInterest = true, writeInterest, outputShut, closed, aborted;
        /** The next read fails, as a reset from the host's peer does. */
        public boolean failReads;

        Stream(FlowKey key, Events events, boolean connecting) {
            this.key = key;
            this.events = events;
            this.connecting = connecting;
        }

        @Override
        public Object handOver() {
            if (refuseHandOver || closed) {
                return null;
            }
            handedOver = true;
            return java.util.Map.of(HANDED_STREAM, this);
        }

        private void touch() {
            if (handedOver) {
                touchedAfterHandOver = true;
            }
        }

        public void connect() {
            connecting = false;
            events.connected();
        }

        public void fail(boolean refused) {
            connecting = false;
            events.connectFailed(refused);
        }

        /** The host sends {@code bytes}. */
        public void send(byte[] bytes) {
            toGuest.write(bytes, 0, bytes.length);
            if (readInterest) {
                events.readable();
            }
        }

        /** The host closes its side. */
        public void end() {
            eof = true;
            if (readInterest) {
                events.readable();
            }
        }

        /** The host reads again, taking up to {@code room} more bytes. */
        public void drain(int room) {
            writeRoom = room;
            if (writeInterest) {
                events.writable();
            }
        }

        @Override
        public boolean connecting() {
            return connecting;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            touch();
            if (closed) {
                throw new IOException("closed");
            }
            int n = Math.min(src.remaining(), writeRoom);
            byte[] b = new byte[n];
            src.get(b);
            received.write(b, 0, n);
            if (writeRoom != Integer.MAX_VALUE) {
                writeRoom -= n;
            }
            return n;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            touch();
            if (failReads) {
                throw new IOException("connection reset by peer");
            }
            byte[] all = toGuest.toByteArray();
            int n = Math.min(dst.remaining(), all.length - toGuestRead);
            if (n == 0) {
                return eof ? -1 : 0;
            }
            dst.put(all, toGuestRead, n);
            toGuestRead += n;
            return n;
        }

        @Override
        public void readInterest(boolean on) {
            touch();
            readInterest = on;
        }

        @Override
        public void writeInterest(boolean on) {
            touch();
            writeInterest = on;
        }

        @Override
        public void shutdownOutput() {
            touch();
            outputShut = true;
        }

        @Override
        public void close() {
            touch();
            closed = true;
        }

        @Override
        public void abort() {
            touch();
            aborted = true;
            closed = true;
        }
    }
}

package dev.slipway.networking.stack.transport;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * Frames over a stream socket, each behind a length header: 4 bytes big-endian for QEMU's
 * {@code -netdev stream} (also passt and gvisor-tap-vsock), 2 bytes little-endian for vpnkit's
 * protocol after its handshake.
 *
 * <p>The socket is non-blocking so that a guest that stops reading can never stall the stack:
 * what the socket does not take waits in a bounded queue, and a frame beyond it is refused with
 * {@link LinkFullException}, as a full NIC queue would, for the stack to send again later.
 */
public final class StreamTransport implements Transport {
    /** How frames are delimited on the stream. */
    public enum Framing {
        /** QEMU stream: 4-byte big-endian length. */
        QEMU(4, 65535 + 14),
        /** vpnkit: 2-byte little-endian length. */
        VPNKIT(2, 65535);

        final int headerBytes;
        final int maxFrame;

        Framing(int headerBytes, int maxFrame) {
            this.headerBytes = headerBytes;
            this.maxFrame = maxFrame;
        }
    }

    private static final int QUEUE_BYTES = 4 << 20;
    private final String name;
    private final SocketChannel channel;
    private final Framing framing;
    private final Selector selector;
    private final SelectionKey key;
    private final ByteBuffer in = ByteBuffer.allocateDirect(256 * 1024);
    private final ByteBuffer frame = ByteBuffer.allocateDirect(65536 + 64);
    private final ByteBuffer header;
    private final ByteBuffer[] gather = new ByteBuffer[2];
    private final ByteBuffer queue = ByteBuffer.allocateDirect(QUEUE_BYTES);
    private volatile boolean open = true;
    /** Handed over to the next version: the socket stays open. */
    private volatile boolean detached;
    private final java.util.concurrent.CountDownLatch readerEnded = new java.util.concurrent.CountDownLatch(1);
    private volatile boolean reading;
    private volatile Runnable whenPeerGone;
    private long dropped;

    /** Wraps a connected socket; any handshake must already be done. */
    public StreamTransport(String name, SocketChannel channel, Framing framing) throws IOException {
        this.name = name;
        this.channel = channel;
        this.framing = framing;
        this.header = ByteBuffer.allocateDirect(4)
                .order(framing == Framing.QEMU ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        channel.configureBlocking(false);
        selector = Selector.open();
        key = channel.register(selector, SelectionKey.OP_READ);
        queue.flip();
    }

    /**
     * Goes on with a connection a previous version of the stack served: {@code pending} are the bytes
     * it had read but not yet cut into frames.
     */
    public static StreamTransport adopt(String name, SocketChannel channel, Framing framing, byte[] pending) throws IOException {
        StreamTransport transport = new StreamTransport(name, channel, framing);
        transport.in.put(pending);
        return transport;
    }

    @Override
    public java.util.Map<String, Object> detach() {
        if (!open) {
            return null;
        }
        detached = true;
        open = false;
        selector.wakeup();
        try {
            if (reading && !readerEnded.await(2, java.util.concurrent.TimeUnit.SECONDS)) {
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        synchronized (queue) {
            try {
                channel.configureBlocking(true);
                if (queue.hasRemaining()) {
                    channel.write(queue);
                }
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }
        in.flip();
        byte[] pending = new byte[in.remaining()];
        in.get(pending);
        return java.util.Map.of(LinkHandover.KIND, framing.name(), LinkHandover.CHANNEL, channel,
                LinkHandover.PENDING, pending, LinkHandover.NAME, name);
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * Runs {@code action} on the reader's thread once the peer ended the link (end of stream, a read
     * error or a frame out of range); not when the stack closes or detaches it.
     */
    public void whenPeerGone(Runnable action) {
        whenPeerGone = action;
    }

    /** Whether the link is still read (neither closed, detached nor ended by its peer). */
    public boolean isOpen() {
        return open;
    }

    /** Frames dropped because the peer did not read fast enough. */
    public long dropped() {
        synchronized (queue) {
            return dropped;
        }
    }

    @Override
    public void run(FrameReceiver receiver) throws IOException {
        reading = true;
        boolean peerGone = false;
        try {
            while (open) {
                int n = channel.read(in);
                if (n < 0) {
                    peerGone = true;
                    return;
                }
                if (n == 0) {
                    receiver.endOfBatch();
                    synchronized (queue) {
                        key.interestOps(queue.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
                    }
                    selector.select(500);
                    selector.selectedKeys().clear();
                    flushQueue();
                    continue;
                }
                in.flip();
                deliver(receiver);
                in.compact();
            }
        } catch (IOException e) {
            peerGone = open;
            throw e;
        } finally {
            close();
            readerEnded.countDown();
            Runnable gone = whenPeerGone;
            if (peerGone && !detached && gone != null) {
                gone.run();
            }
        }
    }

    private void deliver(FrameReceiver receiver) throws IOException {
        int h = framing.headerBytes;
        while (in.remaining() >= h) {
            int p = in.position();
            int length = framing == Framing.QEMU ? in.getInt(p) : Short.toUnsignedInt(Short.reverseBytes(in.getShort(p)));
            if (length < 0 || length > framing.maxFrame) {
                throw new IOException(name + ": frame length " + Integer.toUnsignedString(length) + " is out of range");
            }
            if (in.remaining() < h + length) {
                return;
            }
            frame.clear();
            frame.put(0, in, p + h, length);
            frame.limit(length);
            in.position(p + h + length);
            receiver.frame(frame);
        }
    }

    @Override
    public void send(ByteBuffer f) throws IOException {
        int length = f.remaining();
        if (length > framing.maxFrame) {
            throw new IOException(name + ": a " + length + "-byte frame does not fit the framing");
        }
        synchronized (queue) {
            if (!open) {
                throw new IOException(name + " is closed");
            }
            header.clear();
            if (framing == Framing.QEMU) {
                header.putInt(length);
            } else {
                header.putShort((short) length);
            }
            header.flip();
            if (!queue.hasRemaining()) {
                gather[0] = header;
                gather[1] = f;
                channel.write(gather);
                gather[1] = null;
                if (!header.hasRemaining() && !f.hasRemaining()) {
                    return;
                }
            }
            int need = header.remaining() + f.remaining();
            queue.compact();
            if (queue.remaining() < need) {
                queue.flip();
                dropped++;
                throw LinkFullException.INSTANCE;
            }
            queue.put(header).put(f);
            queue.flip();
            selector.wakeup();
        }
    }

    private void flushQueue() throws IOException {
        synchronized (queue) {
            if (queue.hasRemaining()) {
                channel.write(queue);
            }
        }
    }

    @Override
    public void close() {
        open = false;
        try {
            selector.close();
        } catch (IOException e) {
            // closing anyway
        }
        if (detached) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            // closing anyway
        }
    }

    /** Reads exactly {@code b.remaining()} bytes in blocking mode (for handshakes). */
    static void readFully(SocketChannel channel, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("the peer closed the connection during the handshake");
            }
        }
    }
}

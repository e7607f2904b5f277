package dev.slipway.networking.stack.icmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/** Ping sockets in memory: what was sent is recorded, replies and errors are queued by the test. */
final class FakePingSockets implements PingSockets {
    boolean forbidden;
    int opened;
    int openAttempts;
    final List<Socket> sockets = new ArrayList<>();
    private int nextKernelId = 0x4000;
    private int nextDescriptor = 100;
    /** The sockets let go of for a next version, by descriptor. */
    final java.util.Map<Integer, Socket> released = new java.util.HashMap<>();
    /** The previous version's sockets, where {@link #adopt} finds what it takes. */
    FakePingSockets previous;
    final List<Integer> closedByDescriptor = new ArrayList<>();

    @Override
    public PingChannel open(boolean v6, int token) throws IOException {
        openAttempts++;
        if (forbidden) {
            throw new PingSocketsForbidden("cannot open an ICMP ping socket: EACCES", null);
        }
        if (token < 0) {
            return new Socket(v6, token, 0); // the relay's probe: closed at once
        }
        opened++;
        Socket s = new Socket(v6, token, nextKernelId++);
        s.descriptor = nextDescriptor++;
        s.owner = this;
        sockets.add(s);
        return s;
    }

    @Override
    public PingChannel adopt(int descriptor, boolean v6, int token) throws IOException {
        Socket s = previous == null ? null : previous.released.remove(descriptor);
        if (s == null || s.v6 != v6) {
            throw new IOException("descriptor " + descriptor + " is not a ping socket let go of");
        }
        previous.sockets.remove(s);
        s.token = token;
        s.owner = this;
        sockets.add(s);
        return s;
    }

    @Override
    public SelectableChannel readiness() {
        return null;
    }

    @Override
    public int ready(int[] tokens) {
        int n = 0;
        for (Socket s : sockets) {
            if (!s.closed && s.owner == this && !s.queue.isEmpty() && n < tokens.length) {
                tokens[n++] = s.token;
            }
        }
        return n;
    }

    @Override
    public void close() {
    }

    Socket last() {
        return sockets.get(sockets.size() - 1);
    }

    static final class Socket implements PingChannel {
        final boolean v6;
        int token;
        final int kernelId;
        int descriptor = -1;
        FakePingSockets owner;
        int ttl = -1;
        boolean closed;
        int sendResult;
        final List<byte[]> sent = new ArrayList<>();
        final List<long[]> destinations = new ArrayList<>();
        final ArrayDeque<Object[]> queue = new ArrayDeque<>();

        Socket(boolean v6, int token, int kernelId) {
            this.v6 = v6;
            this.token = token;
            this.kernelId = kernelId;
        }

        @Override
        public void ttl(int ttl) {
            this.ttl = ttl;
        }

        @Override
        public int send(ByteBuffer message, int length, long hi, long lo) {
            if (sendResult < 0) {
                return sendResult;
            }
            byte[] copy = new byte[length];
            message.get(0, copy);
            // the kernel writes its own identifier into what leaves
            copy[4] = (byte) (kernelId >> 8);
            copy[5] = (byte) kernelId;
            ByteBuffer wrapped = ByteBuffer.wrap(copy);
            wrapped.putShort(2, (short) 0);
            wrapped.putShort(2, (short) dev.slipway.networking.stack.ip.Checksum.compute(wrapped, 0, length));
            sent.add(copy);
            destinations.add(new long[] {hi, lo});
            return length;
        }

        /** Queues a reply to the last request from the address, as the kernel delivers it (its own identifier). */
        void reply(long hi, long lo) {
            byte[] r = sent.get(sent.size() - 1).clone();
            r[0] = (byte) (v6 ? 129 : 0);
            queue.add(new Object[] {r, null, hi, lo});
        }

        void queueReply(byte[] message, long hi, long lo) {
            queue.add(new Object[] {message, null, hi, lo});
        }

        /** Queues an error about the last request, reported by the offender. */
        void error(int origin, int type, int code, long hi, long lo) {
            queue.add(new Object[] {sent.get(sent.size() - 1).clone(), new int[] {origin, type, code}, hi, lo});
        }

        @Override
        public int receive(ByteBuffer into, int capacity, PingReceipt receipt) {
            Object[] next = queue.poll();
            if (next == null) {
                return -PingReceipt.EAGAIN;
            }
            byte[] data = (byte[]) next[0];
            int n = Math.min(data.length, capacity);
            into.put(0, data, 0, n);
            if (next[1] instanceof int[] e) {
                receipt.error(e[0], e[1], e[2], true, (long) next[2], (long) next[3]);
            } else {
                receipt.reply((long) next[2], (long) next[3]);
            }
            return n;
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public int letGo() {
            owner.released.put(descriptor, this);
            owner = null;
            return descriptor;
        }
    }
}

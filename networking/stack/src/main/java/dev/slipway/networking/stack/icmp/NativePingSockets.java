package dev.slipway.networking.stack.icmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;

import dev.slipway.platform.linux.natives.Errno;
import dev.slipway.platform.linux.natives.PingSocket;
import dev.slipway.platform.linux.natives.ReadinessSet;

/** The host's unprivileged ping sockets, watched through one epoll set (Linux natives). */
public final class NativePingSockets implements PingSockets {
    private final ReadinessSet readiness;

    private NativePingSockets(ReadinessSet readiness) {
        this.readiness = readiness;
    }

    /** Opens the set the sockets are watched through (ping sockets themselves open on demand). */
    public static NativePingSockets open() throws IOException {
        return new NativePingSockets(ReadinessSet.open());
    }

    @Override
    public PingChannel open(boolean v6, int token) throws IOException {
        PingSocket socket;
        try {
            socket = PingSocket.open(v6);
        } catch (IOException e) {
            if (Errno.of(e) == Errno.EACCES) {
                throw new PingSocketsForbidden(e.getMessage(), e);
            }
            throw e;
        }
        try {
            readiness.add(socket.descriptor(), token);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new Channel(socket);
    }

    @Override
    public PingChannel adopt(int descriptor, boolean v6, int token) throws IOException {
        PingSocket socket = PingSocket.adopt(descriptor, v6);
        try {
            readiness.add(descriptor, token);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new Channel(socket);
    }

    /** Closes a descriptor a previous version let go of that nobody adopted (JDK and natives calls only: run by a state's reset too). */
    public static void closeLetGo(int descriptor) {
        dev.slipway.platform.linux.natives.FileDescriptors.closeQuietly(descriptor);
    }

    @Override
    public SelectableChannel readiness() {
        return readiness.channel();
    }

    @Override
    public int ready(int[] tokens) {
        return readiness.ready(tokens);
    }

    @Override
    public void close() {
        try {
            readiness.close();
        } catch (IOException e) {
            // the set's descriptor is gone either way
        }
    }

    private final class Channel implements PingChannel {
        private final PingSocket socket;

        Channel(PingSocket socket) {
            this.socket = socket;
        }

        @Override
        public void ttl(int ttl) throws IOException {
            socket.ttl(ttl);
        }

        @Override
        public int send(ByteBuffer message, int length, long destinationHi, long destinationLo) {
            return socket.send(message, 0, length, destinationHi, destinationLo);
        }

        @Override
        public int receive(ByteBuffer into, int capacity, PingReceipt receipt) {
            int n = socket.receive(into, 0, capacity);
            if (n >= 0) {
                if (socket.wasError()) {
                    receipt.error(socket.errorOrigin(), socket.errorType(), socket.errorCode(), socket.hasOffender(),
                            socket.offenderHi(), socket.offenderLo());
                } else {
                    receipt.reply(socket.fromHi(), socket.fromLo());
                }
            }
            return n;
        }

        @Override
        public void close() {
            readiness.remove(socket.descriptor());
            socket.close();
        }

        @Override
        public int letGo() {
            readiness.remove(socket.descriptor());
            return socket.descriptor();
        }
    }
}

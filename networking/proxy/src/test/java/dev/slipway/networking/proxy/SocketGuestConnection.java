package dev.slipway.networking.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;

import dev.slipway.networking.api.GuestConnection;

/**
 * A guest connection for unit tests of the interceptor: the test's end is a plain socket, the
 * interceptor's end the accepted socket of a throwaway loopback listener, so a test can drive the
 * interceptor with ordinary socket I/O without a stack.
 */
final class SocketGuestConnection implements GuestConnection {
    private final Socket socket;
    private final int guestIp, dstIp, dstPort;

    private SocketGuestConnection(Socket socket, int guestIp, int dstIp, int dstPort) {
        this.socket = socket;
        this.guestIp = guestIp;
        this.dstIp = dstIp;
        this.dstPort = dstPort;
    }

    /** Hands the interceptor a connection to {@code dstIp:dstPort}; returns the guest's end. */
    static Socket connect(Interceptor interceptor, int guestIp, int dstIp, int dstPort) throws IOException {
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Socket guest = new Socket();
            guest.setSoTimeout(10_000);
            guest.connect(new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort()), 5000);
            interceptor.accept(new SocketGuestConnection(listener.accept(), guestIp, dstIp, dstPort));
            return guest;
        }
    }

    @Override
    public int guestIp() {
        return guestIp;
    }

    @Override
    public int guestPort() {
        return 40000;
    }

    @Override
    public int destinationIp() {
        return dstIp;
    }

    @Override
    public int destinationPort() {
        return dstPort;
    }

    @Override
    public InputStream input() {
        try {
            return socket.getInputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public OutputStream output() {
        try {
            return socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void readTimeout(int millis) {
        try {
            socket.setSoTimeout(millis);
        } catch (SocketException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void shutdownOutput() {
        try {
            socket.shutdownOutput();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }

    @Override
    public void abort() {
        try {
            socket.setSoLinger(true, 0);
        } catch (SocketException e) {
            // closing anyway
        }
        close();
    }
}

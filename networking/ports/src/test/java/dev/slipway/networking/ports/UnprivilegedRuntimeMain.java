package dev.slipway.networking.ports;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;

import dev.slipway.helperclient.SocketHelperClient;
import dev.slipway.networking.api.DatagramReceiver;
import dev.slipway.networking.api.GuestConnector;
import dev.slipway.networking.api.GuestDatagramFlow;

/**
 * The runtime's side of {@link UnprivilegedRuntimePortRootTest}, run as an unprivileged user: the real
 * forwarder with the real helper client publishes {@code tcp 127.0.0.1:PORT}; its "guest" is a stand-in
 * connector that carries each connection to a server on loopback. Prints {@code PUBLISHED} or
 * {@code ERROR <message>} and {@code PORTS <count>}, then serves until stdin closes.
 */
public final class UnprivilegedRuntimeMain {

    public static void main(String[] args) throws Exception {
        Path socket = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        int backend = Integer.parseInt(args[2]);
        PortForwarder forwarder = new PortForwarder(Fakes.configAdmin(new HashMap<>()));
        forwarder.bindHelper(new SocketHelperClient(socket, Duration.ofSeconds(10)));
        forwarder.bindConnector(new LoopbackGuest(backend));
        try {
            forwarder.expose(new PublishedPort("tcp", "127.0.0.1:" + port, "192.168.65.3:80"), false);
            System.out.println("PUBLISHED");
        } catch (IOException | RuntimeException e) {
            System.out.println("ERROR " + e.getMessage());
        }
        System.out.println("PORTS " + forwarder.list().size());
        System.out.flush();
        System.in.read(); // the test closes stdin when done
        forwarder.deactivate();
    }

    /** Carries each host connection to 127.0.0.1:backend (never to the guest address it is given). */
    private record LoopbackGuest(int backend) implements GuestConnector {
        @Override
        public void checkGuestAddress(InetAddress guest) {
        }

        @Override
        public void connect(SocketChannel hostSide, InetSocketAddress guest) throws IOException {
            SocketChannel b = SocketChannel.open(new InetSocketAddress("127.0.0.1", backend));
            hostSide.configureBlocking(true);
            pipe(hostSide, b);
            pipe(b, hostSide);
        }

        private static void pipe(SocketChannel from, SocketChannel to) {
            Thread t = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(16384);
                try {
                    while (from.read(buf) >= 0) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            to.write(buf);
                        }
                        buf.clear();
                    }
                    to.shutdownOutput();
                } catch (IOException e) {
                    try {
                        to.close();
                    } catch (IOException ignored) {
                        // already closing
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        @Override
        public GuestDatagramFlow openDatagramFlow(InetSocketAddress guest, DatagramReceiver replies) {
            throw new UnsupportedOperationException("TCP only");
        }

        @Override
        public void checkRoute(InetAddress target, InetAddress via) {
            throw new IllegalArgumentException("no addresses behind the guest here");
        }

        @Override
        public void connect(SocketChannel hostSide, InetSocketAddress target, InetAddress via) {
            throw new IllegalArgumentException("no addresses behind the guest here");
        }

        @Override
        public GuestDatagramFlow openDatagramFlow(InetSocketAddress target, InetAddress via, DatagramReceiver replies) {
            throw new UnsupportedOperationException("TCP only");
        }
    }
}

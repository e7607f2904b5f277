package dev.slipway.networking.stack.it;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.function.Consumer;

/** Small servers on the host's loopback for the namespace tests; each closes with the test. */
final class HostServers {
    private HostServers() {}

    /** A TCP server on 127.0.0.1 handling each connection on its own thread. */
    static final class Tcp implements AutoCloseable {
        final ServerSocket server;
        private final Thread acceptor;

        Tcp(InetAddress bind, Consumer<Socket> handler) throws IOException {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(bind, 0), 2048);
            acceptor = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        Thread t = new Thread(() -> {
                            try (s) {
                                handler.accept(s);
                            } catch (IOException e) {
                                // the test sees the failure on its side
                            }
                        });
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        Tcp(Consumer<Socket> handler) throws IOException {
            this(InetAddress.getLoopbackAddress(), handler);
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** Reads to end of stream and answers with the SHA-256 of what it read. */
    static Tcp sink() throws IOException {
        return sink(InetAddress.getLoopbackAddress());
    }

    /** {@link #sink()} listening on {@code bind}. */
    static Tcp sink(InetAddress bind) throws IOException {
        return new Tcp(bind, s -> {
            try {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                byte[] b = new byte[1 << 16];
                var in = s.getInputStream();
                for (int n; (n = in.read(b)) > 0; ) {
                    md.update(b, 0, n);
                }
                s.getOutputStream().write(HexFormat.of().formatHex(md.digest()).getBytes(StandardCharsets.US_ASCII));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Writes {@code bytes} of {@link GuestTool#block()} data and closes. */
    static Tcp source(long bytes) throws IOException {
        return source(bytes, InetAddress.getLoopbackAddress());
    }

    /** {@link #source(long)} listening on {@code bind}. */
    static Tcp source(long bytes, InetAddress bind) throws IOException {
        byte[] block = GuestTool.block();
        return new Tcp(bind, s -> {
            try {
                var out = s.getOutputStream();
                for (long left = bytes; left > 0; ) {
                    int n = (int) Math.min(left, block.length);
                    out.write(block, 0, n);
                    left -= n;
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** Waits for the client to finish sending, then replies "pong:" and what it got. */
    static Tcp halfClose() throws IOException {
        return new Tcp(s -> {
            try {
                byte[] got = s.getInputStream().readAllBytes();
                s.getOutputStream().write(("pong:" + new String(got, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** An echo server for many connections on one thread. */
    static final class Echo implements AutoCloseable {
        final ServerSocketChannel server;
        private final Selector selector;
        private final Thread thread;
        volatile int accepted;
        private volatile boolean running = true;

        Echo() throws IOException {
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
            server.configureBlocking(false);
            selector = Selector.open();
            server.register(selector, SelectionKey.OP_ACCEPT);
            thread = new Thread(this::loop);
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.socket().getLocalPort();
        }

        private void loop() {
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (running) {
                try {
                    selector.select(200);
                    for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                        SelectionKey k = it.next();
                        it.remove();
                        if (k.isAcceptable()) {
                            SocketChannel c;
                            while ((c = server.accept()) != null) {
                                c.configureBlocking(false);
                                c.register(selector, SelectionKey.OP_READ);
                                accepted++;
                            }
                        } else if (k.isReadable()) {
                            SocketChannel c = (SocketChannel) k.channel();
                            b.clear();
                            int n;
                            try {
                                n = c.read(b);
                            } catch (IOException e) {
                                n = -1;
                            }
                            if (n < 0) {
                                k.cancel();
                                c.close();
                            } else {
                                b.flip();
                                c.write(b);
                            }
                        }
                    }
                } catch (IOException | java.nio.channels.ClosedSelectorException e) {
                    return;
                }
            }
        }

        @Override
        public void close() throws IOException {
            java.util.List<java.nio.channels.Channel> channels = new java.util.ArrayList<>();
            running = false;
            selector.wakeup();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (SelectionKey k : selector.keys()) {
                channels.add(k.channel());
            }
            for (var c : channels) {
                c.close();
            }
            selector.close();
            server.close();
        }
    }

    /** A UDP echo server on 127.0.0.1 (or another loopback address). */
    static final class UdpEcho implements AutoCloseable {
        final DatagramSocket socket;

        UdpEcho() throws IOException {
            this(InetAddress.getLoopbackAddress());
        }

        UdpEcho(InetAddress bind) throws IOException {
            socket = new DatagramSocket(new InetSocketAddress(bind, 0));
            Thread t = new Thread(() -> {
                byte[] b = new byte[65536];
                while (!socket.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(b, b.length);
                        socket.receive(p);
                        socket.send(new DatagramPacket(b, p.getLength(), p.getSocketAddress()));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() {
            socket.close();
        }
    }
}

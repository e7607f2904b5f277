package dev.slipway.networking.stack.bench;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;

/**
 * An echo server on one thread for the benchmarks and the scale tests: {@code BenchEcho ADDRESS PORT}
 * (port 0 for any); prints "ready PORT" and runs until killed.
 */
public final class BenchEcho {
    private BenchEcho() {}

    public static void main(String[] args) throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])), 16384);
        server.configureBlocking(false);
        Selector selector = Selector.open();
        server.register(selector, SelectionKey.OP_ACCEPT);
        ByteBuffer b = ByteBuffer.allocateDirect(16384);
        long refusals = 0;
        System.out.println("ready " + server.socket().getLocalPort());
        System.out.flush();
        while (true) {
            selector.select();
            for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey k = it.next();
                it.remove();
                if (!k.isValid()) {
                    continue;
                }
                if (k.isAcceptable()) {
                    try {
                        for (SocketChannel c; (c = server.accept()) != null; ) {
                            c.configureBlocking(false);
                            c.register(selector, SelectionKey.OP_READ);
                        }
                    } catch (java.io.IOException e) {
                        // out of descriptors: the connection waits in the backlog until a client closes one
                        if (refusals++ % 1000 == 0) {
                            System.err.println("accept failed: " + e.getMessage());
                        }
                        Thread.sleep(10);
                    }
                } else if (k.isReadable()) {
                    SocketChannel c = (SocketChannel) k.channel();
                    b.clear();
                    int n;
                    try {
                        n = c.read(b);
                    } catch (java.io.IOException e) {
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
        }
    }
}

package dev.slipway.networking.stack;

import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A TCP and a UDP echo server on the host's loopback, for tests that must tell whether a guest flow kept its host
 * socket: every accepted connection, every connection whose peer ended it, and the source port of every datagram
 * are recorded.
 */
public final class LoopbackEchoes implements AutoCloseable {

    private final ServerSocket tcp;
    private final DatagramSocket udp;
    private final List<Socket> hostSides = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<Socket> ended = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<Integer> udpClientPorts = new LinkedBlockingQueue<>();

    public LoopbackEchoes(String name) throws IOException {
        tcp = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        daemon(this::acceptLoop, name + "-accept");
        daemon(this::udpLoop, name + "-udp-echo");
    }

    public int tcpPort() {
        return tcp.getLocalPort();
    }

    public int udpPort() {
        return udp.getLocalPort();
    }

    /** The host ends of the accepted connections, in order. */
    public List<Socket> hostSides() {
        return hostSides;
    }

    /** Host connections whose peer ended them (the end of the stream or a reset). */
    public LinkedBlockingQueue<Socket> ended() {
        return ended;
    }

    /** The source port of every datagram echoed. */
    public LinkedBlockingQueue<Integer> udpClientPorts() {
        return udpClientPorts;
    }

    private void acceptLoop() {
        while (!tcp.isClosed()) {
            try {
                Socket s = tcp.accept();
                hostSides.add(s);
                daemon(() -> echo(s), "loopback-echo");
            } catch (IOException e) {
                return;
            }
        }
    }

    private void udpLoop() {
        byte[] b = new byte[2048];
        while (!udp.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(b, b.length);
                udp.receive(p);
                udpClientPorts.add(p.getPort());
                udp.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void echo(Socket s) {
        try (s; InputStream in = s.getInputStream()) {
            byte[] b = new byte[4096];
            for (int n; (n = in.read(b)) > 0; ) {
                s.getOutputStream().write(b, 0, n);
            }
        } catch (IOException e) {
            // the peer reset the connection
        }
        ended.add(s);
    }

    private static void daemon(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        tcp.close();
        udp.close();
        for (Socket s : hostSides) {
            s.close();
        }
    }
}

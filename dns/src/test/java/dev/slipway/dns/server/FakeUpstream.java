package dev.slipway.dns.server;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.xbill.DNS.Message;

/**
 * A scriptable upstream DNS server on loopback (UDP and TCP on the same port) for tests of the
 * forwarder: it can answer, lie, stay silent or send garbage.
 */
final class FakeUpstream implements AutoCloseable {

    /** Decides what to send back for one query: the bytes, or {@code null} for silence. */
    @FunctionalInterface
    interface Behaviour {
        byte[] respond(Message query, byte[] raw, boolean tcp) throws Exception;
    }

    /** A query as the upstream saw it. */
    record Seen(int id, int sourcePort, boolean tcp, Message query) {}

    final DatagramSocket udp;
    final ServerSocket tcp;
    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final AtomicInteger udpQueries = new AtomicInteger();
    private volatile Behaviour behaviour;
    private volatile boolean running = true;

    FakeUpstream(Behaviour behaviour) throws IOException {
        this.behaviour = behaviour;
        DatagramSocket u = null;
        ServerSocket t = null;
        for (int attempt = 0; t == null; attempt++) {
            u = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try {
                t = new ServerSocket(u.getLocalPort(), 16, InetAddress.getLoopbackAddress());
            } catch (java.net.BindException e) {
                u.close();
                if (attempt > 50) {
                    throw e;
                }
            }
        }
        udp = u;
        tcp = t;
        Thread udpThread = new Thread(this::serveUdp, "fake-upstream-udp");
        udpThread.setDaemon(true);
        udpThread.start();
        Thread tcpThread = new Thread(this::serveTcp, "fake-upstream-tcp");
        tcpThread.setDaemon(true);
        tcpThread.start();
    }

    void behave(Behaviour behaviour) {
        this.behaviour = behaviour;
    }

    String address() {
        return "127.0.0.1:" + udp.getLocalPort();
    }

    private void serveUdp() {
        byte[] buffer = new byte[65536];
        while (running) {
            try {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                udp.receive(packet);
                udpQueries.incrementAndGet();
                byte[] raw = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
                Message query = new Message(raw);
                seen.add(new Seen(query.getHeader().getID(), packet.getPort(), false, query));
                byte[] answer = behaviour.respond(query, raw, false);
                if (answer != null) {
                    udp.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
                }
            } catch (Exception e) {
                if (!running) {
                    return;
                }
            }
        }
    }

    private void serveTcp() {
        while (running) {
            try (Socket s = tcp.accept()) {
                s.setSoTimeout(5000);
                DataInputStream in = new DataInputStream(s.getInputStream());
                DataOutputStream out = new DataOutputStream(s.getOutputStream());
                int length = in.readUnsignedShort();
                byte[] raw = in.readNBytes(length);
                Message query = new Message(raw);
                seen.add(new Seen(query.getHeader().getID(), s.getPort(), true, query));
                byte[] answer = behaviour.respond(query, raw, true);
                if (answer != null) {
                    out.writeShort(answer.length);
                    out.write(answer);
                    out.flush();
                }
            } catch (Exception e) {
                if (!running) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        running = false;
        udp.close();
        tcp.close();
    }
}

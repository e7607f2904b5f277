package dev.slipway.networking.stack.it;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The guest side of the namespace tests: run inside the namespace with {@code ip netns exec NS java
 * -cp ... GuestTool MODE ...}; prints one result line.
 */
public final class GuestTool {
    private GuestTool() {}

    /** The same bytes on both sides: a seeded 1 MiB block, repeated. */
    static byte[] block() {
        byte[] b = new byte[1 << 20];
        new SplittableRandom(42).nextBytes(b);
        return b;
    }

    static String digestOf(long bytes) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] b = block();
        for (long left = bytes; left > 0; ) {
            int n = (int) Math.min(left, b.length);
            md.update(b, 0, n);
            left -= n;
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static void main(String[] args) throws Exception {
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        switch (args[0]) {
            case "send" -> {
                long bytes = Long.parseLong(args[3]);
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 10_000);
                    OutputStream out = s.getOutputStream();
                    byte[] b = block();
                    for (long left = bytes; left > 0; ) {
                        int n = (int) Math.min(left, b.length);
                        out.write(b, 0, n);
                        left -= n;
                    }
                    s.shutdownOutput();
                    String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                    System.out.println(reply.strip());
                }
            }
            case "recv" -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 10_000);
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    InputStream in = s.getInputStream();
                    byte[] b = new byte[1 << 16];
                    long total = 0;
                    for (int n; (n = in.read(b)) > 0; ) {
                        md.update(b, 0, n);
                        total += n;
                    }
                    System.out.println(total + " " + HexFormat.of().formatHex(md.digest()));
                }
            }
            case "half-close" -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), 10_000);
                    s.getOutputStream().write(args[3].getBytes(StandardCharsets.US_ASCII));
                    s.shutdownOutput();
                    System.out.println(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
                }
            }
            case "udp-echo" -> {
                int size = Integer.parseInt(args[3]);
                int count = Integer.parseInt(args[4]);
                int ok = 0;
                try (DatagramSocket s = new DatagramSocket()) {
                    s.setSoTimeout(3000);
                    s.connect(new InetSocketAddress(host, port));
                    byte[] payload = new byte[size];
                    new SplittableRandom(size).nextBytes(payload);
                    byte[] in = new byte[65536];
                    for (int i = 0; i < count; i++) {
                        payload[0] = (byte) i;
                        s.send(new DatagramPacket(payload, size));
                        DatagramPacket p = new DatagramPacket(in, in.length);
                        try {
                            s.receive(p);
                        } catch (java.net.SocketTimeoutException e) {
                            continue;
                        }
                        if (p.getLength() == size && java.util.Arrays.equals(in, 0, size, payload, 0, size)) {
                            ok++;
                        }
                    }
                }
                System.out.println(ok);
            }
            case "concurrent" -> {
                int n = Integer.parseInt(args[3]);
                List<Socket> sockets = new ArrayList<>();
                int ok = 0;
                // counts the connections that were opened, held, and still echo at the end
                try {
                    for (int i = 0; i < n; i++) {
                        Socket s = new Socket();
                        try {
                            s.connect(new InetSocketAddress(host, port), 10_000);
                        } catch (java.io.IOException e) {
                            s.close();
                            break;
                        }
                        s.setSoTimeout(10_000);
                        sockets.add(s);
                    }
                    for (int i = 0; i < sockets.size(); i++) {
                        try {
                            sockets.get(i).getOutputStream().write(i & 0x7f);
                        } catch (java.io.IOException e) {
                            // counted as not working below
                        }
                    }
                    for (int i = 0; i < sockets.size(); i++) {
                        try {
                            if (sockets.get(i).getInputStream().read() == (i & 0x7f)) {
                                ok++;
                            }
                        } catch (java.io.IOException e) {
                            // not working
                        }
                    }
                } finally {
                    for (Socket s : sockets) {
                        s.close();
                    }
                }
                System.out.println(ok);
            }
            case "connrate" -> {
                long until = System.nanoTime() + Long.parseLong(args[3]) * 1_000_000_000L;
                long count = 0;
                long failed = 0;
                long start = System.nanoTime();
                while (System.nanoTime() < until) {
                    try (Socket s = new Socket()) {
                        s.setSoLinger(true, 0);
                        s.connect(new InetSocketAddress(host, port), 5000);
                        count++;
                    } catch (java.io.IOException e) {
                        failed++;
                    }
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                System.out.printf(java.util.Locale.ROOT, "%.0f %d%n", count / seconds, failed);
            }
            case "serve" -> {
                try (java.net.ServerSocket server = new java.net.ServerSocket()) {
                    server.bind(new InetSocketAddress(host, port), 128);
                    System.out.println("listening");
                    System.out.flush();
                    long until = System.currentTimeMillis() + 300_000;
                    server.setSoTimeout(1000);
                    while (System.currentTimeMillis() < until) {
                        try (Socket s = server.accept()) {
                            s.getOutputStream().write("hello from remote\n".getBytes(StandardCharsets.US_ASCII));
                        } catch (java.net.SocketTimeoutException e) {
                            // keep serving until the time limit
                        }
                    }
                }
            }
            case "connect" -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(host, port), Integer.parseInt(args[3]));
                    System.out.println("connected");
                } catch (java.io.IOException e) {
                    System.out.println("failed " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}

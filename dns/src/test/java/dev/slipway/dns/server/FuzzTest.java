package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

import dev.slipway.dns.api.DnsEntry;

/** Adversarial input: mutated queries must never make an exception escape or leave a query without its one reply. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FuzzTest {

    private static final int MUTATIONS = 100_000;

    static List<byte[]> corpus() throws Exception {
        List<byte[]> corpus = new ArrayList<>();
        String[] names = {"host.docker.internal", "GATEWAY.docker.internal", "vm.docker.internal", "x.apps.internal",
                "1.65.168.192.in-addr.arpa", "www.example.test", "a.b.c.d.e.f.g.example.test"};
        int[] types = {Type.A, Type.AAAA, Type.MX, Type.TXT, Type.SRV, Type.PTR, Type.ANY, Type.HTTPS};
        for (String name : names) {
            for (int type : types) {
                Message plain = Client.query(name, type);
                corpus.add(plain.toWire());
                Message edns = Client.query(name, type);
                edns.addRecord(new OPTRecord(1232, 0, 0, 0, List.<EDNSOption>of()), Section.ADDITIONAL);
                corpus.add(edns.toWire());
            }
        }
        return corpus;
    }

    static byte[] mutate(byte[] seed, Random random) {
        byte[] q = seed.clone();
        int kind = random.nextInt(8);
        switch (kind) {
            case 0 -> q[random.nextInt(q.length)] ^= (byte) (1 << random.nextInt(8));
            case 1 -> {
                for (int i = 0, n = 1 + random.nextInt(6); i < n; i++) {
                    q[random.nextInt(q.length)] = (byte) random.nextInt(256);
                }
            }
            case 2 -> q = java.util.Arrays.copyOf(q, random.nextInt(q.length));
            case 3 -> {
                byte[] longer = java.util.Arrays.copyOf(q, q.length + 1 + random.nextInt(64));
                for (int i = q.length; i < longer.length; i++) {
                    longer[i] = (byte) random.nextInt(256);
                }
                q = longer;
            }
            case 4 -> {
                // header counts
                int field = 4 + 2 * random.nextInt(4);
                q[field] = (byte) random.nextInt(256);
                q[field + 1] = (byte) random.nextInt(256);
            }
            case 5 -> q[2] = (byte) random.nextInt(256); // QR, opcode, flags
            case 6 -> {
                // label lengths: pointers, over-long labels
                int at = 12 + random.nextInt(Math.max(1, q.length - 12));
                q[at] = (byte) (random.nextBoolean() ? 0xC0 | random.nextInt(64) : 64 + random.nextInt(192));
            }
            default -> {
                byte[] noise = new byte[random.nextInt(600)];
                random.nextBytes(noise);
                q = noise;
            }
        }
        return q;
    }

    @Test
    void hundredThousandMutatedQueriesNeverEscapeAndEachGetsExactlyOneReply() throws Exception {
        DnsStats stats = new DnsStats();
        DnsServer server = new DnsServer(stats, Configs.dns(Map.of("upstreamTimeoutMs", 100, "queryTimeoutMs", 200)));
        server.addSource(() -> List.of(DnsEntry.matching("[a-z]+\\.apps\\.internal", "A", "10.0.0.7")), Map.of());
        try {
            List<byte[]> corpus = corpus();
            Random random = new Random(20261126);
            AtomicInteger replies = new AtomicInteger();
            AtomicInteger badReplies = new AtomicInteger();
            int escaped = 0;
            for (int i = 0; i < MUTATIONS; i++) {
                byte[] q = mutate(corpus.get(random.nextInt(corpus.size())), random);
                try {
                    server.answer(ByteBuffer.wrap(q), Client.LOCAL, random.nextBoolean(), answer -> {
                        replies.incrementAndGet();
                        if (answer != null && (answer.remaining() < 12 || answer.get(answer.position()) != q[0]
                                || answer.get(answer.position() + 1) != q[1])) {
                            badReplies.incrementAndGet();
                        }
                    });
                } catch (RuntimeException e) {
                    escaped++;
                }
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (replies.get() < MUTATIONS && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, escaped);
            assertEquals(MUTATIONS, replies.get());
            assertEquals(0, badReplies.get());
            assertEquals(0, stats.drops(DnsStats.Drop.INTERNAL));
            assertTrue(stats.totalDrops() > MUTATIONS / 4, "bad input is counted: " + stats.status());
            assertEquals("192.168.65.1", Client.ask(server, "gateway.docker.internal", Type.A).getSection(Section.ANSWER)
                    .get(0).rdataToString());
        } finally {
            server.deactivate();
        }
    }

    @Test
    void theHostSocketsSurviveGarbageAndStillAnswer() throws Exception {
        DnsStats stats = new DnsStats();
        DnsServer server = new DnsServer(stats, Configs.dns(Map.of("upstreamTimeoutMs", 100, "queryTimeoutMs", 200)));
        DnsListener listener = new DnsListener(stats, Configs.dns(), "127.0.0.1:0");
        listener.setDnsService(server);
        try {
            InetSocketAddress address = listener.address();
            List<byte[]> corpus = corpus();
            Random random = new Random(7);
            try (DatagramSocket socket = new DatagramSocket()) {
                for (int i = 0; i < 5000; i++) {
                    byte[] q = mutate(corpus.get(random.nextInt(corpus.size())), random);
                    socket.send(new DatagramPacket(q, q.length, address));
                    if (i % 64 == 0) {
                        Thread.sleep(1);
                    }
                }
                byte[] huge = new byte[65000];
                random.nextBytes(huge);
                socket.send(new DatagramPacket(huge, huge.length, address));
            }
            for (int i = 0; i < 20; i++) {
                try (Socket s = new Socket(address.getAddress(), address.getPort())) {
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    byte[] q = mutate(corpus.get(random.nextInt(corpus.size())), random);
                    out.writeShort(random.nextBoolean() ? q.length : random.nextInt(65536));
                    out.write(q);
                    out.flush();
                }
            }
            SimpleResolver resolver = new SimpleResolver(address);
            resolver.setTimeout(Duration.ofSeconds(3));
            Message answer = resolver.send(Client.query("host.docker.internal", Type.A));
            assertEquals(Rcode.NOERROR, answer.getRcode());
            resolver.setTCP(true);
            assertEquals(Rcode.NOERROR, resolver.send(Client.query("host.docker.internal", Type.A)).getRcode());
            assertEquals(0, stats.drops(DnsStats.Drop.INTERNAL));
        } finally {
            listener.deactivate();
            server.deactivate();
        }
    }
}

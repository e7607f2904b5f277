package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

import dev.slipway.api.platform.HostResolvers;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForwardingTest {

    private final DnsStats stats = new DnsStats();
    private DnsServer server;
    private final List<FakeUpstream> upstreams = new java.util.ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.deactivate();
        }
        for (FakeUpstream u : upstreams) {
            u.close();
        }
    }

    private FakeUpstream upstream(FakeUpstream.Behaviour behaviour) throws Exception {
        FakeUpstream u = new FakeUpstream(behaviour);
        upstreams.add(u);
        return u;
    }

    private DnsServer serverUsing(Map<String, Object> extra, FakeUpstream... servers) {
        Map<String, Object> config = new java.util.HashMap<>(extra);
        config.put("upstreams", java.util.Arrays.stream(servers).map(FakeUpstream::address).toArray(String[]::new));
        server = new DnsServer(stats, Configs.dns(config));
        return server;
    }

    /** Answers A queries with 10.0.0.1 (TTL 300), NXDOMAIN for names starting with "missing". */
    static byte[] answer(Message query, byte[] raw, boolean tcp) throws Exception {
        Message answer = new Message(query.getHeader().getID());
        answer.getHeader().setFlag(Flags.QR);
        answer.getHeader().setFlag(Flags.RA);
        if (query.getHeader().getFlag(Flags.RD)) {
            answer.getHeader().setFlag(Flags.RD);
        }
        Record question = query.getQuestion();
        answer.addRecord(question, Section.QUESTION);
        Name name = question.getName();
        if (name.getLabelString(0).startsWith("missing")) {
            answer.getHeader().setRcode(Rcode.NXDOMAIN);
            answer.addRecord(new SOARecord(new Name(name, 1), DClass.IN, 900, Name.fromString("ns.test."),
                    Name.fromString("admin.test."), 1, 1, 1, 1, 120), Section.AUTHORITY);
        } else if (question.getType() == Type.A) {
            answer.addRecord(new ARecord(name, DClass.IN, 300, java.net.InetAddress.getByName("10.0.0.1")), Section.ANSWER);
        }
        if (query.getOPT() != null) {
            answer.addRecord(new OPTRecord(4096, 0, 0), Section.ADDITIONAL);
        }
        return answer.toWire();
    }

    @Test
    void forwardedAnswersAreCachedAndTheirTtlCountsDown() throws Exception {
        FakeUpstream up = upstream(ForwardingTest::answer);
        serverUsing(Map.of(), up);
        Message first = Client.ask(server, "www.example.test", Type.A);
        assertEquals("10.0.0.1", ((ARecord) first.getSection(Section.ANSWER).get(0)).getAddress().getHostAddress());
        assertEquals(300, first.getSection(Section.ANSWER).get(0).getTTL());
        Message query = Client.query("WWW.example.TEST", Type.A);
        Message second = Client.ask(server, query);
        assertEquals(query.getHeader().getID(), second.getHeader().getID());
        assertEquals("WWW.example.TEST.", second.getQuestion().getName().toString());
        assertEquals(1, up.udpQueries.get());
        assertEquals(1, stats.cacheHits());
        assertTrue(second.getSection(Section.ANSWER).get(0).getTTL() <= 300);
    }

    @Test
    void negativeAnswersAreCachedForTheSoaMinimum() throws Exception {
        FakeUpstream up = upstream(ForwardingTest::answer);
        serverUsing(Map.of(), up);
        assertEquals(Rcode.NXDOMAIN, Client.ask(server, "missing.example.test", Type.A).getRcode());
        assertEquals(Rcode.NXDOMAIN, Client.ask(server, "missing.example.test", Type.A).getRcode());
        assertEquals(1, up.udpQueries.get());
        assertEquals(Rcode.NOERROR, Client.ask(server, "www.example.test", Type.TXT).getRcode());
    }

    @Test
    void ednsIsKeptTowardsTheUpstreamAndBackToTheClient() throws Exception {
        FakeUpstream up = upstream(ForwardingTest::answer);
        serverUsing(Map.of(), up);
        Message query = Client.query("edns.example.test", Type.A);
        query.addRecord(new OPTRecord(1232, 0, 0, Flags.DO, List.<EDNSOption>of()), Section.ADDITIONAL);
        Message answer = Client.ask(server, query);
        assertTrue(answer.getOPT() != null);
        OPTRecord sent = up.seen.get(0).query().getOPT();
        assertEquals(1232, sent.getPayloadSize());
        assertEquals(Flags.DO, sent.getFlags() & Flags.DO);
    }

    @Test
    void aTruncatedUdpAnswerIsAskedAgainOverTcp() throws Exception {
        FakeUpstream up = upstream((query, raw, tcp) -> {
            Message answer = new Message(query.getHeader().getID());
            answer.getHeader().setFlag(Flags.QR);
            answer.addRecord(query.getQuestion(), Section.QUESTION);
            if (!tcp) {
                answer.getHeader().setFlag(Flags.TC);
            } else {
                for (int i = 0; i < 10; i++) {
                    answer.addRecord(new TXTRecord(query.getQuestion().getName(), DClass.IN, 60, "x".repeat(200) + i), Section.ANSWER);
                }
            }
            return answer.toWire();
        });
        serverUsing(Map.of(), up);
        byte[] wire = Client.askRaw(server, Client.query("big.example.test", Type.TXT).toWire(), Client.LOCAL, true);
        assertEquals(10, new Message(wire).getSection(Section.ANSWER).size());
        assertTrue(up.seen.stream().anyMatch(FakeUpstream.Seen::tcp));
        // a UDP client without EDNS gets TC and asks over TCP, from the cache
        Message udp = new Message(Client.askRaw(server, Client.query("big.example.test", Type.TXT).toWire(), Client.LOCAL, false));
        assertTrue(udp.getHeader().getFlag(Flags.TC));
    }

    @Test
    void aSilentUpstreamGetsServfailWithinTheTimeout() throws Exception {
        FakeUpstream up = upstream((query, raw, tcp) -> null);
        serverUsing(Map.of("upstreamTimeoutMs", 200, "queryTimeoutMs", 600), up);
        long start = System.nanoTime();
        Message answer = Client.ask(server, "silent.example.test", Type.A);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(Rcode.SERVFAIL, answer.getRcode());
        assertTrue(millis < 1500, "took " + millis + " ms (query timeout 600 ms)");
        assertTrue(millis >= 350, "gave up after " + millis + " ms");
    }

    @Test
    void upstreamGarbageGetsServfailQuickly() throws Exception {
        FakeUpstream up = upstream((query, raw, tcp) -> {
            byte[] garbage = new byte[40];
            new java.util.Random(7).nextBytes(garbage);
            System.arraycopy(raw, 0, garbage, 0, Math.min(raw.length, 30));
            garbage[2] |= (byte) 0x80;
            garbage[7] = 3; // three answers announced, random bytes instead
            garbage[30] = (byte) 0xFF;
            return garbage;
        });
        serverUsing(Map.of("upstreamTimeoutMs", 2000, "queryTimeoutMs", 3000), up);
        long start = System.nanoTime();
        Message answer = Client.ask(server, "g.test", Type.A);
        assertEquals(Rcode.SERVFAIL, answer.getRcode());
        assertTrue((System.nanoTime() - start) / 1_000_000 < 1500);
    }

    @Test
    void answersWithAWrongIdOrQuestionAreIgnoredAndTheRealOneAccepted() throws Exception {
        FakeUpstream up = upstream((query, raw, tcp) -> {
            byte[] real = answer(query, raw, tcp);
            byte[] spoofed = real.clone();
            spoofed[0] ^= 0x55;
            return spoofed;
        });
        FakeUpstream.Behaviour honest = ForwardingTest::answer;
        serverUsing(Map.of("upstreamTimeoutMs", 300, "queryTimeoutMs", 2000), up);
        Message answer = Client.ask(server, "spoof.example.test", Type.A);
        assertEquals(Rcode.SERVFAIL, answer.getRcode());
        assertTrue(stats.status().toString().contains("mismatched=")); // counted
        up.behave(honest);
        assertEquals(Rcode.NOERROR, Client.ask(server, "spoof.example.test", Type.A).getRcode());
    }

    @Test
    void aDeadServerIsSkippedForTheNextOne() throws Exception {
        FakeUpstream silent = upstream((query, raw, tcp) -> null);
        FakeUpstream good = upstream(ForwardingTest::answer);
        serverUsing(Map.of("upstreamTimeoutMs", 200, "queryTimeoutMs", 2000), silent, good);
        Message answer = Client.ask(server, "failover.example.test", Type.A);
        assertEquals(Rcode.NOERROR, answer.getRcode());
        assertEquals(1, silent.udpQueries.get());
        assertEquals(1, good.udpQueries.get());
    }

    @Test
    void upstreamQueriesUseRandomIdsAndSourcePorts() throws Exception {
        FakeUpstream up = upstream(ForwardingTest::answer);
        serverUsing(Map.of("cacheEntries", 0), up);
        Message query = Client.query("rand.example.test", Type.A);
        for (int i = 0; i < 30; i++) {
            Client.ask(server, query);
        }
        Set<Integer> ids = new HashSet<>();
        Set<Integer> ports = new HashSet<>();
        for (FakeUpstream.Seen s : up.seen) {
            ids.add(s.id());
            ports.add(s.sourcePort());
        }
        assertEquals(30, up.seen.size());
        assertTrue(ids.size() >= 28, "ids " + ids);
        assertTrue(ports.size() >= 28, "ports " + ports);
    }

    @Test
    void splitDnsSendsEachDomainToItsOwnResolver() throws Exception {
        FakeUpstream corp = upstream(ForwardingTest::answer);
        FakeUpstream general = upstream(ForwardingTest::answer);
        server = new DnsServer(stats, Configs.dns());
        server.resolversChanged(List.of(
                HostResolvers.Resolver.of(new InetSocketAddress("127.0.0.1", general.udp.getLocalPort())),
                new HostResolvers.Resolver(new InetSocketAddress("127.0.0.1", corp.udp.getLocalPort()), List.of("Corp.Example."))));
        Client.ask(server, "wiki.corp.example", Type.A);
        Client.ask(server, "corp.example", Type.A);
        Client.ask(server, "www.example.test", Type.A);
        Client.ask(server, "notcorp.example", Type.A);
        assertEquals(2, corp.udpQueries.get());
        assertEquals(2, general.udpQueries.get());
    }

    @Test
    void withoutAnyResolverForwardedNamesGetServfail() throws Exception {
        server = new DnsServer(stats, Configs.dns());
        assertEquals(Rcode.SERVFAIL, Client.ask(server, "www.example.test", Type.A).getRcode());
        assertEquals(1, stats.drops(DnsStats.Drop.NO_UPSTREAM));
    }

    @Test
    void changedHostResolversEmptyTheCache() throws Exception {
        FakeUpstream up = upstream(ForwardingTest::answer);
        server = new DnsServer(stats, Configs.dns());
        HostResolvers.Resolver r = HostResolvers.Resolver.of(new InetSocketAddress("127.0.0.1", up.udp.getLocalPort()));
        server.resolversChanged(List.of(r));
        Client.ask(server, "www.example.test", Type.A);
        Client.ask(server, "www.example.test", Type.A);
        assertEquals(1, up.udpQueries.get());
        FakeUpstream other = upstream(ForwardingTest::answer);
        server.resolversChanged(List.of(HostResolvers.Resolver.of(new InetSocketAddress("127.0.0.1", other.udp.getLocalPort()))));
        Client.ask(server, "www.example.test", Type.A);
        assertEquals(1, other.udpQueries.get());
    }

    @Test
    void theLastResolversStayInUseWhileThePlatformBundleIsReplaced() throws Exception {
        FakeUpstream up = upstream(ForwardingTest::answer);
        server = new DnsServer(stats, Configs.dns(Map.of("cacheEntries", 0)));
        List<HostResolvers.Resolver> list = List.of(HostResolvers.Resolver.of(new InetSocketAddress("127.0.0.1", up.udp.getLocalPort())));
        server.resolversChanged(list); // the platform's service binds the server as its listener
        // the platform bundle goes away: it only unbinds its listeners, so the server keeps the list
        assertEquals(Rcode.NOERROR, Client.ask(server, "www.example.test", Type.A).getRcode());
        server.resolversChanged(list); // the replacement binds it and tells it the same list
        assertEquals(Rcode.NOERROR, Client.ask(server, "www.example.test", Type.A).getRcode());
        assertEquals(2, up.udpQueries.get());
    }

    @Test
    void aContributedNameTakesOverFromTheCacheAtOnce() throws Exception {
        FakeUpstream up = upstream(ForwardingTest::answer);
        serverUsing(Map.of(), up);
        assertEquals("10.0.0.1", Client.ask(server, "shop.example.test", Type.A).getSection(Section.ANSWER).get(0).rdataToString());
        server.addSource(() -> List.of(dev.slipway.dns.api.DnsEntry.matching("shop\\.example\\.test", "A", "10.5.5.5")), Map.of());
        assertEquals("10.5.5.5", Client.ask(server, "shop.example.test", Type.A).getSection(Section.ANSWER).get(0).rdataToString());
    }

    @Test
    void aResolverThatIsThisServersOwnAddressIsLeftOutToAvoidALoop() throws Exception {
        server = new DnsServer(stats, Configs.dns(), "127.0.0.1:15353");
        server.resolversChanged(List.of(
                new HostResolvers.Resolver(new InetSocketAddress("127.0.0.1", 15353), List.of("docker.internal")),
                HostResolvers.Resolver.of(new InetSocketAddress("127.0.0.1", 5300))));
        assertEquals(List.of(new InetSocketAddress("127.0.0.1", 5300)), server.routes().defaults());
        assertTrue(server.routes().byDomain().isEmpty());
    }

    @Test
    void theSameQuestionAskedManyTimesAtOnceGoesUpstreamOnce() throws Exception {
        FakeUpstream up = upstream((query, raw, tcp) -> {
            Thread.sleep(300);
            return answer(query, raw, tcp);
        });
        serverUsing(Map.of(), up);
        List<java.util.concurrent.CompletableFuture<byte[]>> answers = new java.util.ArrayList<>();
        List<Integer> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Message query = Client.query("popular.example.test", Type.A);
            ids.add(query.getHeader().getID());
            java.util.concurrent.CompletableFuture<byte[]> answer = new java.util.concurrent.CompletableFuture<>();
            server.answer(java.nio.ByteBuffer.wrap(query.toWire()), Client.LOCAL, false, buffer -> {
                byte[] copy = new byte[buffer.remaining()];
                buffer.get(buffer.position(), copy);
                answer.complete(copy);
            });
            answers.add(answer);
        }
        for (int i = 0; i < 10; i++) {
            Message answer = new Message(answers.get(i).get(5, TimeUnit.SECONDS));
            assertEquals((int) ids.get(i), answer.getHeader().getID());
            assertEquals("10.0.0.1", answer.getSection(Section.ANSWER).get(0).rdataToString());
        }
        assertEquals(1, up.udpQueries.get());
    }
}

package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

import dev.slipway.dns.api.DnsEntry;
import dev.slipway.dns.api.DnsRecordSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LocalAnswersTest {

    private final DnsStats stats = new DnsStats();
    private final DnsServer server = new DnsServer(stats, Configs.dns());

    @AfterEach
    void stop() {
        server.deactivate();
    }

    private static String firstAddress(Message answer) {
        return ((ARecord) answer.getSection(Section.ANSWER).get(0)).getAddress().getHostAddress();
    }

    @Test
    void builtInNamesAnswerTheirDefaultAddresses() throws Exception {
        assertEquals("192.168.65.254", firstAddress(Client.ask(server, "host.docker.internal", Type.A)));
        assertEquals("192.168.65.1", firstAddress(Client.ask(server, "gateway.docker.internal", Type.A)));
        assertEquals("127.0.0.1", firstAddress(Client.ask(server, "kubernetes.docker.internal", Type.A)));
        Message answer = Client.ask(server, "host.docker.internal", Type.A);
        assertTrue(answer.getHeader().getFlag(Flags.QR));
        assertTrue(answer.getHeader().getFlag(Flags.AA));
        assertTrue(answer.getHeader().getFlag(Flags.RD));
        assertEquals(Rcode.NOERROR, answer.getRcode());
    }

    @Test
    void answerKeepsTheQueryIdAndTheQuestionsOwnCase() throws Exception {
        Message query = Client.query("HoSt.DoCkEr.InTeRnAl", Type.A);
        Message answer = Client.ask(server, query);
        assertEquals(query.getHeader().getID(), answer.getHeader().getID());
        assertEquals("HoSt.DoCkEr.InTeRnAl.", answer.getQuestion().getName().toString());
        assertEquals("192.168.65.254", firstAddress(answer));
    }

    @Test
    void aTypeABuiltInNameLacksIsNoDataWithAnSoaNeverNxdomain() throws Exception {
        for (int type : new int[] {Type.MX, Type.TXT, Type.SRV, Type.HTTPS, Type.CAA}) {
            Message answer = Client.ask(server, "host.docker.internal", type);
            assertEquals(Rcode.NOERROR, answer.getRcode(), Type.string(type));
            assertTrue(answer.getSection(Section.ANSWER).isEmpty(), Type.string(type));
            Record soa = answer.getSection(Section.AUTHORITY).get(0);
            assertTrue(soa instanceof SOARecord, Type.string(type));
            assertEquals("docker.internal.", soa.getName().toString());
        }
    }

    @Test
    void builtInNamesAnswerAaaaWithTheGuestNetworksIpv6Addresses() throws Exception {
        Message host = Client.ask(server, "host.docker.internal", Type.AAAA);
        assertEquals(1, host.getSection(Section.ANSWER).size());
        assertEquals(InetAddress.getByName("fd00:5e7a:1e55::254"),
                ((org.xbill.DNS.AAAARecord) host.getSection(Section.ANSWER).get(0)).getAddress());
        Message gateway = Client.ask(server, "gateway.docker.internal", Type.AAAA);
        assertEquals(InetAddress.getByName("fd00:5e7a:1e55::1"),
                ((org.xbill.DNS.AAAARecord) gateway.getSection(Section.ANSWER).get(0)).getAddress());
        assertEquals("192.168.65.254", firstAddress(Client.ask(server, "host.docker.internal", Type.A)), "A unchanged");
        Message ptr = Client.ask(server, org.xbill.DNS.ReverseMap.fromAddress("fd00:5e7a:1e55::254").toString(), Type.PTR);
        assertEquals("host.docker.internal.", ((PTRRecord) ptr.getSection(Section.ANSWER).get(0)).getTarget().toString());
        DnsServer noIpv6 = new DnsServer(new DnsStats(), Configs.dns(Map.of("hostAddress6", "")));
        try {
            assertTrue(Client.ask(noIpv6, "host.docker.internal", Type.AAAA).getSection(Section.ANSWER).isEmpty());
        } finally {
            noIpv6.deactivate();
        }
    }

    @Test
    void theGuestsNameHasNoDataUntilTheNetworkStackContributesTheLease() throws Exception {
        Message before = Client.ask(server, "vm.docker.internal", Type.A);
        assertEquals(Rcode.NOERROR, before.getRcode());
        assertTrue(before.getSection(Section.ANSWER).isEmpty());

        DnsRecordSource lease = () -> List.of(DnsEntry.of("vm.docker.internal", "A", "192.168.65.3"));
        server.addSource(lease, Map.of());
        assertEquals("192.168.65.3", firstAddress(Client.ask(server, "vm.docker.internal", Type.A)));
        Message ptr = Client.ask(server, "3.65.168.192.in-addr.arpa", Type.PTR);
        assertEquals("vm.docker.internal.", ((PTRRecord) ptr.getSection(Section.ANSWER).get(0)).getTarget().toString());

        server.removeSource(lease);
        assertTrue(Client.ask(server, "vm.docker.internal", Type.A).getSection(Section.ANSWER).isEmpty());
    }

    @Test
    void reverseLookupsOfTheGatewayAndTheHostAliasNameThem() throws Exception {
        Message gateway = Client.ask(server, "1.65.168.192.in-addr.arpa", Type.PTR);
        assertEquals("gateway.docker.internal.", ((PTRRecord) gateway.getSection(Section.ANSWER).get(0)).getTarget().toString());
        Message host = Client.ask(server, "254.65.168.192.in-addr.arpa", Type.PTR);
        assertEquals("host.docker.internal.", ((PTRRecord) host.getSection(Section.ANSWER).get(0)).getTarget().toString());
    }

    @Test
    void contributedRecordsOfEveryTypeAreServedAtOnceAndRemovedOnUnregister() throws Exception {
        DnsRecordSource source = () -> List.of(
                DnsEntry.of("app.test.internal", "A", "10.1.2.3"),
                DnsEntry.of("app.test.internal", "MX", "10 mail.test.internal."),
                DnsEntry.of("app.test.internal", "TXT", "\"hello world\""),
                DnsEntry.of("_http._tcp.app.test.internal", "SRV", "0 5 8080 app.test.internal."));
        server.addSource(source, Map.of());
        assertEquals("10.1.2.3", firstAddress(Client.ask(server, "app.test.internal", Type.A)));
        assertEquals("mail.test.internal.",
                ((MXRecord) Client.ask(server, "app.test.internal", Type.MX).getSection(Section.ANSWER).get(0)).getTarget().toString());
        assertEquals(List.of("hello world"),
                ((TXTRecord) Client.ask(server, "app.test.internal", Type.TXT).getSection(Section.ANSWER).get(0)).getStrings());
        assertEquals(Type.SRV, Client.ask(server, "_http._tcp.app.test.internal", Type.SRV).getSection(Section.ANSWER).get(0).getType());
        assertEquals(3, Client.ask(server, "app.test.internal", Type.ANY).getSection(Section.ANSWER).size());

        server.removeSource(source);
        assertNull(server.zone().lookup(parsed("app.test.internal"), NameKey.probe()));
    }

    @Test
    void regularExpressionNamesAndAuthoritativeZonesLikeGvisorTapVsock() throws Exception {
        DnsRecordSource zone = new DnsRecordSource() {
            @Override
            public List<DnsEntry> records() {
                return List.of(DnsEntry.matching("[a-z0-9-]+\\.apps\\.internal", "A", "10.9.9.9"));
            }

            @Override
            public List<String> zones() {
                return List.of("apps.internal");
            }
        };
        server.addSource(zone, Map.of());
        Message answer = Client.ask(server, "Shop-1.apps.internal", Type.A);
        assertEquals("10.9.9.9", firstAddress(answer));
        assertEquals("Shop-1.apps.internal.", answer.getSection(Section.ANSWER).get(0).getName().toString());
        Message noData = Client.ask(server, "shop.apps.internal", Type.AAAA);
        assertEquals(Rcode.NOERROR, noData.getRcode());
        assertTrue(noData.getSection(Section.ANSWER).isEmpty());
        Message missing = Client.ask(server, "a.b.apps.internal", Type.A);
        assertEquals(Rcode.NXDOMAIN, missing.getRcode());
        assertEquals(Type.SOA, missing.getSection(Section.AUTHORITY).get(0).getType());
    }

    @Test
    void higherRankedContributionsReplaceRecordsOfTheSameType() throws Exception {
        server.addSource(() -> List.of(DnsEntry.of("host.docker.internal", "A", "10.0.0.9")), Map.of("service.ranking", 5));
        assertEquals("10.0.0.9", firstAddress(Client.ask(server, "host.docker.internal", Type.A)));
        assertEquals(1, Client.ask(server, "host.docker.internal", Type.A).getSection(Section.ANSWER).size());
    }

    @Test
    void configurationChangesTheBuiltInNamesWithoutARestart() throws Exception {
        server.modified(Configs.dns(Map.of("hostNames", new String[] {"host.example.test", "host.docker.internal"},
                "hostAddress", "192.168.70.254")));
        assertEquals("192.168.70.254", firstAddress(Client.ask(server, "host.example.test", Type.A)));
        assertEquals("192.168.70.254", firstAddress(Client.ask(server, "host.docker.internal", Type.A)));
    }

    @Test
    void ednsQueriesGetAnOptRecordAndDnssecOkIsEchoed() throws Exception {
        Message query = Client.query("gateway.docker.internal", Type.A);
        query.addRecord(new OPTRecord(1232, 0, 0, Flags.DO, List.<EDNSOption>of()), Section.ADDITIONAL);
        Message answer = Client.ask(server, query);
        OPTRecord opt = answer.getOPT();
        assertTrue(opt != null);
        assertEquals(ResponseWriter.ADVERTISED_PAYLOAD, opt.getPayloadSize());
        assertEquals(Flags.DO, opt.getFlags() & Flags.DO);
        assertEquals("192.168.65.1", firstAddress(answer));
    }

    @Test
    void anUnknownEdnsVersionGetsBadvers() throws Exception {
        Message query = Client.query("gateway.docker.internal", Type.A);
        query.addRecord(new OPTRecord(1232, 0, 1, 0, List.<EDNSOption>of()), Section.ADDITIONAL);
        Message answer = Client.ask(server, query);
        assertEquals(Rcode.BADVERS, answer.getRcode());
    }

    @Test
    void twoQuestionsAreAFormatError() throws Exception {
        Message query = Client.query("gateway.docker.internal", Type.A);
        query.addRecord(Record.newRecord(Name.fromString("host.docker.internal."), Type.A, DClass.IN), Section.QUESTION);
        assertEquals(Rcode.FORMERR, Client.ask(server, query).getRcode());
        assertEquals(1, stats.drops(DnsStats.Drop.COUNTS));
    }

    @Test
    void otherOpcodesAndClassesAreNotImplemented() throws Exception {
        Message status = Client.query("gateway.docker.internal", Type.A);
        status.getHeader().setOpcode(Opcode.STATUS);
        assertEquals(Rcode.NOTIMP, Client.ask(server, status).getRcode());
        Message chaos = Message.newQuery(Record.newRecord(Name.fromString("version.bind."), Type.TXT, DClass.CH));
        assertEquals(Rcode.NOTIMP, Client.ask(server, chaos).getRcode());
        assertEquals(Rcode.NOTIMP, Client.ask(server, "gateway.docker.internal", Type.AXFR).getRcode());
    }

    @Test
    void answersAndClientsFromOutsideTheAllowedNetworksAreIgnored() throws Exception {
        Message response = Client.query("gateway.docker.internal", Type.A);
        response.getHeader().setFlag(Flags.QR);
        assertNull(Client.askRaw(server, response.toWire(), Client.LOCAL, false));
        assertEquals(1, stats.drops(DnsStats.Drop.NOT_A_QUERY));
        InetSocketAddress outsider = new InetSocketAddress(InetAddress.getByName("203.0.113.7"), 53);
        assertNull(Client.askRaw(server, Client.query("gateway.docker.internal", Type.A).toWire(), outsider, false));
        assertEquals(1, stats.drops(DnsStats.Drop.NOT_ALLOWED));
        InetSocketAddress guest = new InetSocketAddress(InetAddress.getByName("192.168.65.3"), 5353);
        byte[] wire = Client.askRaw(server, Client.query("gateway.docker.internal", Type.A).toWire(), guest, false);
        assertEquals("192.168.65.1", firstAddress(new Message(wire)));
    }

    @Test
    void aLargeLocalAnswerIsTruncatedOverUdpAndWholeOverTcp() throws Exception {
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 12; i++) {
            big.append('"').append("x".repeat(200)).append("\" ");
        }
        server.addSource(() -> List.of(DnsEntry.of("big.test.internal", "TXT", big.toString())), Map.of());
        byte[] query = Client.query("big.test.internal", Type.TXT).toWire();
        Message udp = new Message(Client.askRaw(server, query, Client.LOCAL, false));
        assertTrue(udp.getHeader().getFlag(Flags.TC));
        Message tcp = new Message(Client.askRaw(server, query, Client.LOCAL, true));
        assertEquals(1, tcp.getSection(Section.ANSWER).size());
    }

    @Test
    void answerBytesEqualTheTemplateForTheSameQuery() throws Exception {
        byte[] query = Client.query("host.docker.internal", Type.A).toWire();
        assertArrayEquals(Client.askRaw(server, query, Client.LOCAL, false), Client.askRaw(server, query, Client.LOCAL, false));
    }

    @Test
    void aSourceWhosePropertiesChangeIsReadAgain() throws Exception {
        String[] address = {"192.168.65.3"};
        DnsRecordSource lease = () -> List.of(DnsEntry.of("vm.docker.internal", "A", address[0]));
        server.addSource(lease, Map.of(DnsRecordSource.GENERATION, 1));
        address[0] = "192.168.65.4";
        server.updatedSource(lease, Map.of(DnsRecordSource.GENERATION, 2));
        assertEquals("192.168.65.4", firstAddress(Client.ask(server, "vm.docker.internal", Type.A)));
    }

    @Test
    void badContributionsAreLeftOutAndTheRestIsServed() throws Exception {
        server.addSource(() -> List.of(DnsEntry.of("ok.test.internal", "A", "10.0.0.1"),
                DnsEntry.of("bad.test.internal", "A", "not-an-address"),
                DnsEntry.of("bad2.test.internal", "NOSUCHTYPE", "x")), Map.of());
        assertEquals("10.0.0.1", firstAddress(Client.ask(server, "ok.test.internal", Type.A)));
        assertEquals(2, server.zone().problems().size());
        server.addSource(() -> {
            throw new IllegalStateException("broken source");
        }, Map.of());
        assertEquals("10.0.0.1", firstAddress(Client.ask(server, "ok.test.internal", Type.A)));
    }

    private static WireQuery parsed(String name) throws Exception {
        WireQuery q = new WireQuery();
        q.parse(java.nio.ByteBuffer.wrap(Client.query(name, Type.A).toWire()));
        return q;
    }
}

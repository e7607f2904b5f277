package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;

/** Which host ports the engine's container list asks for, and where in the guest each one goes. */
class EnginePortsTest {

    static JsonArray containers(String json) {
        return JsonParser.parseString(json).getAsJsonArray();
    }

    static List<PublishedPort> ports(Map<String, EnginePorts.Wanted> wanted) {
        return wanted.values().stream().map(EnginePorts.Wanted::port).toList();
    }

    static final String WEB = """
            [{"Id":"0123456789abcdef","Names":["/web"],"Ports":[
              {"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
              {"IP":"::","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
              {"PrivatePort":443,"Type":"tcp"},
              {"IP":"127.0.0.1","PrivatePort":53,"PublicPort":5353,"Type":"udp"},
              {"IP":"0.0.0.0","PrivatePort":9,"PublicPort":9999,"Type":"sctp"}],
             "HostConfig":{"NetworkMode":"default"},
             "NetworkSettings":{"Networks":{"bridge":{"Gateway":"172.17.0.1","IPAddress":"172.17.0.2","IPPrefixLen":16}}}}]
            """;

    @Test
    void loopbackUnlessTheUserAllowsAllAddresses() {
        assertEquals(List.of(new PublishedPort("tcp", "127.0.0.1:8080", "192.168.65.3:8080"),
                new PublishedPort("udp", "127.0.0.1:5353", "172.17.0.2:53", "192.168.65.3")),
                ports(EnginePorts.wanted(containers(WEB), false, "192.168.65.3")));
    }

    @Test
    void allAddressesOnlyWhereTheEngineBindsThemAndTheUserAllows() {
        assertEquals(List.of(new PublishedPort("tcp", "0.0.0.0:8080", "192.168.65.3:8080"),
                new PublishedPort("udp", "127.0.0.1:5353", "172.17.0.2:53", "192.168.65.3")),
                ports(EnginePorts.wanted(containers(WEB), true, "192.168.65.3")));
    }

    @Test
    void unpublishedPortsAndOtherProtocolsAskForNothing() {
        assertEquals(List.of(), ports(EnginePorts.wanted(containers("""
                [{"Id":"0123456789abcdef","Names":[],"Ports":[{"PrivatePort":80,"Type":"tcp"},
                  {"IP":"0.0.0.0","PrivatePort":1,"PublicPort":2,"Type":"sctp"}]},
                 {"Id":"fedcba9876543210","Names":["/x"],"Ports":null}]
                """), false, "192.168.65.3")));
    }

    @Test
    void twoContainersAskingForOnePortGiveItToTheFirst() {
        Map<String, EnginePorts.Wanted> w = EnginePorts.wanted(containers("""
                [{"Id":"a","Names":["/a"],"Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":80,"Type":"tcp"}]},
                 {"Id":"b","Names":["/b"],"Ports":[{"IP":"0.0.0.0","PrivatePort":81,"PublicPort":80,"Type":"tcp"}]}]
                """), false, "192.168.65.3");
        assertEquals(1, w.size());
        assertEquals("a", w.values().iterator().next().container());
    }

    /** One container on {@code networks} (a JSON object) binding {@code ports} (a JSON array's members). */
    static JsonArray container(String mode, String networks, String ports) {
        return containers("""
                [{"Id":"0123456789abcdef","Names":["/web"],"Ports":[%s],"HostConfig":{"NetworkMode":"%s"},
                  "NetworkSettings":{"Networks":%s}}]
                """.formatted(ports, mode, networks));
    }

    static final String BRIDGE = """
            {"bridge":{"Gateway":"172.17.0.1","IPAddress":"172.17.0.2","IPPrefixLen":16}}""";

    @Test
    void aLoopbackBindingGoesToTheContainersOwnPortThroughTheGuest() {
        // -p 127.0.0.1:18080:80: the engine takes only the guest's own 127.0.0.1, which the guest's
        // eth0 never sees; the container's address is routed by the guest over its bridge
        JsonArray c = container("default", BRIDGE, """
                {"IP":"127.0.0.1","PrivatePort":80,"PublicPort":18080,"Type":"tcp"}""");
        List<PublishedPort> expected = List.of(new PublishedPort("tcp", "127.0.0.1:18080", "172.17.0.2:80", "192.168.65.3"));
        assertEquals(expected, ports(EnginePorts.wanted(c, false, "192.168.65.3")));
        // the user's all-addresses setting never widens a binding the engine keeps on loopback
        assertEquals(expected, ports(EnginePorts.wanted(c, true, "192.168.65.3")));
    }

    @Test
    void anEngineChosenHostPortIsPublishedAsTheEngineListsIt() {
        // -p 127.0.0.1::80: the engine picks the host port and lists it as any other
        assertEquals(List.of(new PublishedPort("tcp", "127.0.0.1:32768", "172.17.0.2:80", "192.168.65.3")),
                ports(EnginePorts.wanted(container("default", BRIDGE, """
                        {"IP":"127.0.0.1","PrivatePort":80,"PublicPort":32768,"Type":"tcp"}"""), false, "192.168.65.3")));
    }

    @Test
    void udpOnLoopbackTakesTheSamePath() {
        assertEquals(List.of(new PublishedPort("udp", "127.0.0.1:5353", "172.17.0.2:53", "192.168.65.3")),
                ports(EnginePorts.wanted(container("default", BRIDGE, """
                        {"IP":"127.0.0.1","PrivatePort":53,"PublicPort":5353,"Type":"udp"}"""), false, "192.168.65.3")));
    }

    @Test
    void theHostKeepsTheLoopbackAddressAsked() {
        JsonArray c = container("default", BRIDGE, """
                {"IP":"::1","PrivatePort":80,"PublicPort":18081,"Type":"tcp"},
                {"IP":"127.0.0.2","PrivatePort":80,"PublicPort":18082,"Type":"tcp"},
                {"IP":"0:0:0:0:0:0:0:1","PrivatePort":81,"PublicPort":18083,"Type":"tcp"}""");
        assertEquals(List.of(new PublishedPort("tcp", "[::1]:18081", "172.17.0.2:80", "192.168.65.3"),
                new PublishedPort("tcp", "127.0.0.2:18082", "172.17.0.2:80", "192.168.65.3"),
                new PublishedPort("tcp", "[::1]:18083", "172.17.0.2:81", "192.168.65.3")),
                ports(EnginePorts.wanted(c, true, "192.168.65.3")));
    }

    @Test
    void aBindingOnAnotherAddressIsOnTheHostsLoopbackAndGoesToTheContainer() {
        // the engine takes 192.0.2.7 only (not the guest's address): the container is still reachable,
        // on the host's 127.0.0.1 as every binding is without the all-addresses setting
        assertEquals(List.of(new PublishedPort("tcp", "127.0.0.1:18084", "172.17.0.2:80", "192.168.65.3")),
                ports(EnginePorts.wanted(container("default", BRIDGE, """
                        {"IP":"192.0.2.7","PrivatePort":80,"PublicPort":18084,"Type":"tcp"}"""), true, "192.168.65.3")));
        // an IPv6 address other than ::1 has no host side here
        assertEquals(List.of(), ports(EnginePorts.wanted(container("default", BRIDGE, """
                {"IP":"fd00::7","PrivatePort":80,"PublicPort":18085,"Type":"tcp"}"""), true, "192.168.65.3")));
    }

    @Test
    void aContainerOnAUserDefinedNetworkIsReachedThere() {
        assertEquals(List.of(new PublishedPort("tcp", "127.0.0.1:18086", "172.18.0.2:80", "192.168.65.3")),
                ports(EnginePorts.wanted(container("lbnet", """
                        {"lbnet":{"Gateway":"172.18.0.1","IPAddress":"172.18.0.2","IPPrefixLen":16}}""", """
                        {"IP":"127.0.0.1","PrivatePort":80,"PublicPort":18086,"Type":"tcp"}"""), false, "192.168.65.3")));
    }

    @Test
    void onSeveralNetworksTheEnginesGatewayNetworkIsChosen() {
        // the engine maps ports on its gateway endpoint: highest priority, then one with a gateway, then by name
        assertEquals("172.17.0.7", EnginePorts.containerAddress(container("lbnet", """
                {"lbnet":{"Gateway":"172.18.0.1","IPAddress":"172.18.0.2"},
                 "bridge":{"Gateway":"172.17.0.1","IPAddress":"172.17.0.7"}}""", "").get(0).getAsJsonObject()));
        assertEquals("172.18.0.2", EnginePorts.containerAddress(container("lbnet", """
                {"lbnet":{"Gateway":"172.18.0.1","IPAddress":"172.18.0.2","GwPriority":10},
                 "bridge":{"Gateway":"172.17.0.1","IPAddress":"172.17.0.7"}}""", "").get(0).getAsJsonObject()));
        assertEquals("172.19.0.2", EnginePorts.containerAddress(container("inner", """
                {"inner":{"Gateway":"","IPAddress":"172.20.0.2"},
                 "outer":{"Gateway":"172.19.0.1","IPAddress":"172.19.0.2"}}""", "").get(0).getAsJsonObject()));
    }

    @Test
    void withoutAnIpv4AddressALoopbackBindingAsksForNothing() {
        String ports = """
                {"IP":"127.0.0.1","PrivatePort":80,"PublicPort":18087,"Type":"tcp"},
                {"IP":"0.0.0.0","PrivatePort":81,"PublicPort":18088,"Type":"tcp"}""";
        List<PublishedPort> onlyTheAllAddressesOne = List.of(new PublishedPort("tcp", "127.0.0.1:18088", "192.168.65.3:18088"));
        assertEquals(onlyTheAllAddressesOne, ports(EnginePorts.wanted(container("v6only", """
                {"v6only":{"Gateway":"","IPAddress":"","GlobalIPv6Address":"fd00::2"}}""", ports), false, "192.168.65.3")));
        assertEquals(onlyTheAllAddressesOne, ports(EnginePorts.wanted(containers("""
                [{"Id":"a","Names":["/a"],"Ports":[%s]}]""".formatted(ports)), false, "192.168.65.3")));
    }

    @Test
    void anAddressThatIsNotALiteralIsNeverUsedNorLookedUp() {
        assertEquals(List.of(), ports(EnginePorts.wanted(container("default", """
                {"bridge":{"Gateway":"172.17.0.1","IPAddress":"engine.example"}}""", """
                {"IP":"127.0.0.1","PrivatePort":80,"PublicPort":18089,"Type":"tcp"}"""), false, "192.168.65.3")));
        assertNull(EnginePorts.containerAddress(container("default", """
                {"bridge":{"IPAddress":["172.17.0.2"]}}""", "").get(0).getAsJsonObject()));
        // a host side that is not an address stays on the host's 127.0.0.1
        assertEquals("127.0.0.1", EnginePorts.loopbackHost("localhost"));
        assertEquals("127.0.0.1", EnginePorts.loopbackHost("127.0.0.300"));
        assertNull(PublishedPort.literal("999.1.1.1"));
        assertNull(PublishedPort.literal("::::"));
        assertNull(PublishedPort.literal("fd00::1%eth0"));
        assertNull(PublishedPort.literal("engine.example"));
        assertEquals("172.17.0.2", PublishedPort.literal("172.17.0.2").getHostAddress());
    }

    @Test
    void joiningOrLeavingANetworkMakesTheListAgain() {
        assertTrue(EnginePorts.changesPorts("""
                {"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"c","name":"lbnet"}}}"""));
        assertTrue(EnginePorts.changesPorts("""
                {"Type":"network","Action":"disconnect","Actor":{"ID":"n","Attributes":{"container":"c"}}}"""));
        assertTrue(EnginePorts.changesPorts("""
                {"status":"start","id":"c","Type":"container","Action":"start"}"""));
        assertFalse(EnginePorts.changesPorts("""
                {"status":"exec_start: sh","Type":"container","Action":"exec_start: sh"}"""));
        assertFalse(EnginePorts.changesPorts("not json"));
    }

    @Test
    void aPublicationThroughAGuestIsStoredAndReadBackWhole() {
        PublishedPort p = new PublishedPort("tcp", "127.0.0.1:18080", "172.17.0.2:80", "192.168.65.3");
        assertEquals(p, PublishedPort.fromStored(p.stored()));
        assertEquals("172.17.0.2:80 via 192.168.65.3", p.shownRemote());
        PublishedPort direct = new PublishedPort("tcp", "127.0.0.1:8080", "192.168.65.3:8080");
        assertEquals("tcp 127.0.0.1:8080 192.168.65.3:8080", direct.stored());
        assertNull(direct.viaAddress());
        assertThrows(IllegalArgumentException.class,
                () -> new PublishedPort("tcp", "127.0.0.1:1", "172.17.0.2:80", "guest.example").viaAddress());
        assertThrows(IllegalArgumentException.class,
                () -> new PublishedPort("unix", "/tmp/x.sock", "tcp://172.17.0.2:80", "192.168.65.3").viaAddress());
        assertThrows(IllegalArgumentException.class, () -> PublishedPort.fromStored("tcp a b c d"));
    }
}

package dev.slipway.networking.ports;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;

/** Which host ports the engine's container list asks for. */
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
              {"IP":"0.0.0.0","PrivatePort":9,"PublicPort":9999,"Type":"sctp"}]}]
            """;

    @Test
    void loopbackUnlessTheUserAllowsAllAddresses() {
        assertEquals(List.of(new PublishedPort("tcp", "127.0.0.1:8080", "192.168.65.3:8080"),
                new PublishedPort("udp", "127.0.0.1:5353", "192.168.65.3:5353")),
                ports(EnginePorts.wanted(containers(WEB), false, "192.168.65.3")));
    }

    @Test
    void allAddressesOnlyWhereTheEngineBindsThemAndTheUserAllows() {
        assertEquals(List.of(new PublishedPort("tcp", "0.0.0.0:8080", "192.168.65.3:8080"),
                new PublishedPort("udp", "127.0.0.1:5353", "192.168.65.3:5353")),
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
}

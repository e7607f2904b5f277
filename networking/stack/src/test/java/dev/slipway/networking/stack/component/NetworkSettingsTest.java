package dev.slipway.networking.stack.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.Mac;
import dev.slipway.networking.stack.NetConfig;

class NetworkSettingsTest {

    @Test
    void defaultsAreTheDocumentedAddresses() {
        NetConfig c = new NetworkSettings(Map.of(), k -> null).netConfig();
        assertEquals(Ip4.parse("192.168.65.0"), c.subnet());
        assertEquals(Ip4.parse("192.168.65.1"), c.gateway());
        assertEquals(Ip4.parse("192.168.65.254"), c.hostAlias());
        assertEquals(Ip4.parse("192.168.65.3"), c.firstGuest());
        assertEquals(1500, c.mtu());
    }

    @Test
    void frameworkPropertiesApplyAndConfigurationOverridesThem() {
        Map<String, String> fw = Map.of("slipway.mtu", "9000", "slipway.subnet", "10.9.0.0/16");
        NetConfig c = new NetworkSettings(Map.of(), fw::get).netConfig();
        assertEquals(9000, c.mtu());
        assertEquals(Ip4.parse("10.9.0.1"), c.gateway());
        NetConfig o = new NetworkSettings(Map.of("mtu", 65520, "staticLeases", new String[] {"02:00:00:00:00:01=10.9.0.10"},
                "linkLocalAllowed", "true"), fw::get).netConfig();
        assertEquals(65520, o.mtu());
        assertEquals(Ip4.parse("10.9.0.10"), o.staticLeases().get(Mac.parse("02:00:00:00:00:01")));
        assertTrue(o.linkLocalAllowed());
    }

    @Test
    void metadataRefusedIsTheCloudListByDefaultAndConfigurable() {
        NetConfig d = new NetworkSettings(Map.of(), k -> null).netConfig();
        assertEquals("169.254.0.0/16,100.100.100.200,fd00:ec2::254,168.63.129.16,fe80::/10", d.refusedDestinations().toString());
        NetConfig c = new NetworkSettings(Map.of("metadataRefused", "169.254.169.254, 10.0.0.0/8 fd00::/8"), k -> null).netConfig();
        assertEquals(List.of("169.254.169.254", "10.0.0.0/8", "fd00::/8"), c.refusedDestinations().entries());
        NetConfig none = new NetworkSettings(Map.of("metadataRefused", ""), k -> null).netConfig();
        assertTrue(none.refusedDestinations().isEmpty());
        NetConfig fw = new NetworkSettings(Map.of(), Map.of("slipway.metadata-refused", "192.0.2.1")::get).netConfig();
        assertEquals("192.0.2.1", fw.refusedDestinations().toString());
        var e = assertThrows(IllegalArgumentException.class,
                () -> new NetworkSettings(Map.of("metadataRefused", "metadata.google.internal"), k -> null).netConfig());
        assertTrue(e.getMessage().contains("metadata.google.internal"), e.getMessage());
    }

    @Test
    void invalidValuesAreRejectedWithAClearMessage() {
        var e = assertThrows(IllegalArgumentException.class, () -> new NetworkSettings(Map.of("mtu", 70000), k -> null).netConfig());
        assertTrue(e.getMessage().contains("MTU"));
        assertThrows(IllegalArgumentException.class, () -> new NetworkSettings(Map.of("subnet", "10.0.0.0"), k -> null).netConfig());
        assertThrows(IllegalArgumentException.class, () -> new NetworkSettings(Map.of("gateway", "10.1.1.1"), k -> null).netConfig());
    }

    @Test
    void ipv6IsOnByDefaultAndTakesItsPrefixFromTheSettings() {
        NetConfig d = new NetworkSettings(Map.of(), k -> null).netConfig();
        assertTrue(d.ipv6().enabled());
        assertEquals("fd00:5e7a:1e55::/64", d.ipv6().prefixText());
        NetConfig c = new NetworkSettings(Map.of("ipv6Prefix", "fd12:3456:789a:1::/64"), k -> null).netConfig();
        assertEquals("fd12:3456:789a:1::1", c.ipv6().gatewayText());
        assertEquals("fd12:3456:789a:1::254", c.ipv6().hostAliasText());
        NetConfig off = new NetworkSettings(Map.of(), Map.of("slipway.ipv6", "false")::get).netConfig();
        assertFalse(off.ipv6().enabled());
        NetConfig small = new NetworkSettings(Map.of("mtu", 1000), k -> null).netConfig();
        assertFalse(small.ipv6().enabled(), "a link under 1280 bytes cannot carry IPv6");
        var e = assertThrows(IllegalArgumentException.class,
                () -> new NetworkSettings(Map.of("mtu", 1000, "ipv6", "true"), k -> null).netConfig());
        assertTrue(e.getMessage().contains("1280"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new NetworkSettings(Map.of("ipv6Prefix", "fd12::/56"), k -> null).netConfig());
    }
}

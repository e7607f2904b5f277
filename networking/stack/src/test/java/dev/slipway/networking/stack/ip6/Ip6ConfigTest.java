package dev.slipway.networking.stack.ip6;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Ip6ConfigTest {

    @Test
    void theDefaultsAreAUniqueLocalSlash64() {
        Ip6Config c = Ip6Config.defaults();
        assertTrue(c.enabled());
        assertEquals("fd00:5e7a:1e55::/64", c.prefixText());
        assertEquals("fd00:5e7a:1e55::1", c.gatewayText());
        assertEquals("fd00:5e7a:1e55::254", c.hostAliasText());
    }

    @Test
    void badSettingsAreRefusedWithTheReason() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Ip6Config.of(true, "fd00:1::/48", "fd00:1::1", "fd00:1::2", 120)).getMessage().contains("/64"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Ip6Config.of(true, "fd00:1::/64", "fd00:2::1", "fd00:1::2", 120)).getMessage().contains("outside"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Ip6Config.of(true, "fe80::/64", "fe80::1", "fe80::2", 120)).getMessage().contains("unicast"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Ip6Config.of(true, "fd00:1::/64", "fd00:1::1", "fd00:1::1", 120)).getMessage().contains("different"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> Ip6Config.of(true, "fd00:1::/64", "example.com", "fd00:1::1", 120)).getMessage().contains("not an IPv6"));
    }

    @Test
    void addressesPrintInTheirShortForm() {
        long[] a = Ip6.parse("2001:db8:0:0:1:0:0:1");
        assertEquals("2001:db8::1:0:0:1", Ip6.toString(a[0], a[1]));
        assertEquals("::1", Ip6.toString(0, 1));
        assertEquals("fe80::5894:efff:fee4:cdd", Ip6.toString(Ip6.LINK_LOCAL_PREFIX, Ip6.interfaceId(0x5a_94_ef_e4_0c_ddL)));
    }
}

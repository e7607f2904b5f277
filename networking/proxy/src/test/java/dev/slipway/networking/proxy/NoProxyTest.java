package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class NoProxyTest {
    static int ip(String s) {
        return NoProxy.cidr(s)[0];
    }

    @Test
    void namesMatchThemselvesAndTheirSubdomainsButNotLookalikes() {
        NoProxy n = new NoProxy(List.of("example.com", ".corp.example", "*.internal"));
        assertTrue(n.matches("example.com", 0));
        assertTrue(n.matches("registry.example.com", 0));
        assertFalse(n.matches("badexample.com", 0));
        assertFalse(n.matches("example.com.evil.net", 0));
        assertTrue(n.matches("a.b.corp.example", 0));
        assertTrue(n.matches("corp.example", 0));
        assertTrue(n.matches("x.internal", 0));
        assertFalse(n.matches("internalx", 0));
    }

    @Test
    void addressesBlocksAndMacShortFormsMatchByAddress() {
        NoProxy n = new NoProxy(List.of("10.0.0.0/8", "192.168.1.7", "169.254/16"));
        assertTrue(n.matchesAddress(ip("10.200.3.4")));
        assertTrue(n.matchesAddress(ip("192.168.1.7")));
        assertFalse(n.matchesAddress(ip("192.168.1.8")));
        assertTrue(n.matchesAddress(ip("169.254.169.254")));
        assertFalse(n.matchesAddress(ip("11.0.0.1")));
        assertTrue(n.matches("10.1.1.1", 0), "an address given as the name");
    }

    @Test
    void windowsWildcardsLocalAndStar() {
        NoProxy n = new NoProxy(List.of("10.*", "*.corp.*", "<local>"));
        assertTrue(n.matches("10.1.2.3", ip("10.1.2.3")));
        assertTrue(n.matches("mail.corp.example", 0));
        assertTrue(n.matches("intranet", 0));
        assertFalse(n.matches("intranet.example", 0));
        assertTrue(new NoProxy(List.of("*")).matchesAddress(ip("1.2.3.4")));
    }

    @Test
    void portsAreIgnoredAndGarbageIsHarmless() {
        NoProxy n = new NoProxy(List.of("example.com:8080", "300.1.1.1/8", "1.2.3.4/33", "/", "..", "a/b"));
        assertTrue(n.matches("example.com", 0));
        assertFalse(n.matchesAddress(ip("1.2.3.4")));
        assertNull(NoProxy.cidr("1.2.3"));
        assertNull(NoProxy.cidr("1.2.3.4.5"));
        assertTrue(new NoProxy(List.of()).isEmpty());
    }
}

package dev.slipway.helper.portsbind;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;

/** The allow-list and the schema shapes of ports.bind, including hostile values. No root needed: nothing is bound. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PortsBindRulesTest {

    private final PortsBindOperation op = new PortsBindOperation("192.0.2.10, 2001:db8::10");

    PortsBindRulesTest() throws Exception {
    }

    @Test
    void loopbackAndConfiguredAddressesAreAllowed() throws Exception {
        for (String a : List.of("127.0.0.1", "127.5.6.7", "::1", "192.0.2.10", "2001:db8::10")) {
            assertEquals(InetAddress.getByName(a.contains(":") ? "[" + a + "]" : a), op.allowed(a, false), a);
        }
    }

    @Test
    void allAddressesNeedTheExplicitFlag() throws Exception {
        for (String a : List.of("0.0.0.0", "::")) {
            HelperException e = assertThrows(HelperException.class, () -> op.allowed(a, false));
            assertEquals(HelperErrors.REFUSED, e.code());
            assertTrue(op.allowed(a, true).isAnyLocalAddress());
        }
    }

    @Test
    void otherAddressesAreRefusedEvenWithTheFlag() {
        for (String a : List.of("10.0.0.1", "192.0.2.11", "169.254.1.1", "2001:db8::11", "::ffff:10.0.0.1")) {
            HelperException e = assertThrows(HelperException.class, () -> op.allowed(a, true), a);
            assertEquals(HelperErrors.REFUSED, e.code(), a);
        }
    }

    @Test
    void textThatIsNoAddressIsInvalidAndNeverLookedUp() {
        HelperException e = assertThrows(HelperException.class, () -> op.allowed("abc:def", false));
        assertEquals(HelperErrors.INVALID, e.code());
    }

    @Test
    void theSchemaTakesOnlyPortsBelow1024AndAddressLiteralsAndNamesNoReplyConnection() {
        var params = HelperSchema.operation(HelperSchema.PORTS_BIND).orElseThrow().params();
        var port = params.get(HelperSchema.PARAM_PORT).type();
        for (String ok : List.of("1", "80", "1023")) {
            assertTrue(port.problem(ok).isEmpty(), ok);
        }
        for (Object bad : List.of("0", "1024", "8080", "080", "-1", "+80", " 80", "80 ", "99999999999", "", 80L)) {
            assertTrue(port.problem(bad).isPresent(), String.valueOf(bad));
        }
        var address = params.get(HelperSchema.PARAM_ADDRESS).type();
        for (String ok : List.of("127.0.0.1", "0.0.0.0", "::1", "::", "2001:db8::10")) {
            assertTrue(address.problem(ok).isEmpty(), ok);
        }
        for (String bad : List.of("localhost", "1.2.3.256", "01.2.3.4", "1.2.3", "../etc", "/tmp/x", "127.0.0.1\n", "[::1]", "::1%lo", "")) {
            assertTrue(address.problem(bad).isPresent(), bad);
        }
        assertEquals(Set.of(HelperSchema.PARAM_PROTOCOL, HelperSchema.PARAM_ADDRESS, HelperSchema.PARAM_PORT, HelperSchema.PARAM_ALL_ADDRESSES),
                params.keySet(), "the socket goes back on the request's own connection: nothing in a request names one");
        var protocol = params.get(HelperSchema.PARAM_PROTOCOL).type();
        assertTrue(protocol.problem("sctp").isPresent());
        assertTrue(params.get(HelperSchema.PARAM_ALL_ADDRESSES).type().problem("yes").isPresent());
    }
}

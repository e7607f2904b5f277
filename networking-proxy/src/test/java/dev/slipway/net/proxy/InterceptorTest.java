package dev.slipway.net.proxy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

class InterceptorTest {

    @Test
    void linkLocalDestinationsAreRefusedOnDirectPaths() throws Exception {
        assertTrue(Interceptor.refusedDirect(InetAddress.getByName("169.254.169.254")));
        assertTrue(Interceptor.refusedDirect(InetAddress.getByName("fe80::1")));
        assertFalse(Interceptor.refusedDirect(InetAddress.getByName("127.0.0.1")));
        assertFalse(Interceptor.refusedDirect(InetAddress.getByName("172.31.231.2")));
    }

    @Test
    void slipwaysOwnAnswersCarryTheReasonAndCloseTheConnection() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        Interceptor.respond(out, 403, "the registry x is not allowed", true);
        String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(text.startsWith("HTTP/1.1 403 Forbidden\r\n"), text);
        assertTrue(text.contains("Connection: close\r\n"), text);
        assertTrue(text.endsWith("\r\n\r\nSlipway: the registry x is not allowed\n"), text);
    }
}

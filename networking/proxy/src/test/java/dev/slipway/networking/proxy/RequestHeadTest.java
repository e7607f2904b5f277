package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class RequestHeadTest {
    static RequestHead read(String s) throws Exception {
        return RequestHead.read(new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void requestLineHeadersHostAndPortAreRead() throws Exception {
        var in = new ByteArrayInputStream("GET /v2/ HTTP/1.1\r\nHost: Registry.Example:5000\r\nAccept: */*\r\n\r\nBODY".getBytes());
        RequestHead h = RequestHead.read(in);
        assertEquals("GET", h.method);
        assertEquals("/v2/", h.target);
        assertEquals("registry.example", h.hostName());
        assertEquals(5000, h.hostPort(80));
        assertEquals("BODY", new String(in.readAllBytes()), "nothing after the head is consumed");
    }

    @Test
    void bareLineFeedsAndHttp10CloseAreUnderstood() throws Exception {
        RequestHead h = read("GET / HTTP/1.0\nHost: a\n\n");
        assertEquals("a", h.hostName());
        assertTrue(h.wantsClose());
    }

    @Test
    void malformedHeadsAreRefusedWithAReason() {
        assertThrows(RequestHead.BadRequest.class, () -> read("\u0016\u0003\u0001 hello\r\n\r\n"));
        assertThrows(RequestHead.BadRequest.class, () -> read("GET / HTTP/1.1\r\nNo colon here\r\n\r\n"));
        assertThrows(RequestHead.BadRequest.class, () -> read("GET / HTTP/1.1\r\nHost: a"));
        assertThrows(RequestHead.BadRequest.class, () -> read("GET / HTTP/1.1\r\nX: " + "a".repeat(RequestHead.MAX_BYTES) + "\r\n\r\n"));
    }

    @Test
    void hostHeaderInjectionGivesNoName() throws Exception {
        assertNull(read("GET / HTTP/1.1\r\nHost: a b\r\n\r\n").hostName());
        assertNull(read("GET / HTTP/1.1\r\n\r\n").hostName());
        assertNull(read(""), "a connection closed before any byte is no request");
    }
}

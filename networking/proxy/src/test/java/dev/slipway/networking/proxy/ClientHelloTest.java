package dev.slipway.networking.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

import org.junit.jupiter.api.Test;

class ClientHelloTest {

    /** The first record the JDK's own TLS client sends for {@code name} (null: no SNI). */
    static byte[] clientHello(String name) throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine(name, 443);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(name == null ? List.of() : List.of(new SNIHostName(name)));
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    @Test
    void nameOfARealClientHelloIsFound() throws Exception {
        byte[] b = clientHello("Registry-1.Docker.example");
        assertEquals(b.length, ClientHello.recordLength(b, b.length));
        assertEquals("registry-1.docker.example", ClientHello.serverName(b, b.length));
    }

    @Test
    void helloWithoutSniGivesNoName() throws Exception {
        byte[] b = clientHello(null);
        assertNull(ClientHello.serverName(b, b.length));
    }

    @Test
    void truncatedHellosGiveNoNameAndNoException() throws Exception {
        byte[] b = clientHello("origin.test");
        for (int n = 0; n < b.length; n++) {
            String name = ClientHello.serverName(b, n);
            if (name != null) {
                assertEquals("origin.test", name, "prefix of " + n + " bytes");
            }
        }
    }

    @Test
    void randomAndMutatedBytesNeverThrow() throws Exception {
        byte[] good = clientHello("origin.test");
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = good.clone();
            for (int k = 0; k < 1 + random.nextInt(8); k++) {
                b[random.nextInt(b.length)] = (byte) random.nextInt(256);
            }
            String name = ClientHello.serverName(b, b.length);
            if (name != null) {
                assertEquals(name, ClientHello.hostName(name), "only clean host names come out");
            }
        }
        byte[] noise = new byte[600];
        random.nextBytes(noise);
        noise[0] = 22;
        noise[1] = 3;
        ClientHello.serverName(noise, noise.length);
    }

    @Test
    void namesWithControlOrShellCharactersAreRejected() {
        assertNull(ClientHello.hostName("evil\r\nHost: x"));
        assertNull(ClientHello.hostName("a b"));
        assertNull(ClientHello.hostName(""));
        assertEquals("ok.example", ClientHello.hostName("OK.example."));
    }

    @Test
    void nonTlsBytesAreNotARecord() {
        byte[] http = "GET / HTTP/1.1\r\n".getBytes();
        assertEquals(-1, ClientHello.recordLength(http, http.length));
    }
}

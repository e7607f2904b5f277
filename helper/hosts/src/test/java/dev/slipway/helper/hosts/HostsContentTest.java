package dev.slipway.helper.hosts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.slipway.helper.hosts.HostsContent.MalformedHostsException;

class HostsContentTest {

    private static final String ORIGINAL = "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n# a comment \t\n10.0.0.5 nas\n";

    private static HostsContent ensure(HostsContent content) throws MalformedHostsException {
        return content.withBlock(HostsOperations.entries(content, Optional.empty()), "\n");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theBlockIsAppendedAndEverythingElseIsKeptByteForByte() throws Exception {
        HostsContent next = ensure(HostsContent.decode(bytes(ORIGINAL)));
        String text = new String(next.encode(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith(ORIGINAL), text);
        assertEquals(ORIGINAL + "# Added by Slipway\n127.0.0.1 kubernetes.docker.internal\n# End of Slipway section\n", text);
    }

    @Test
    void ensureIsIdempotent() throws Exception {
        HostsContent once = ensure(HostsContent.decode(bytes(ORIGINAL)));
        HostsContent twice = ensure(HostsContent.decode(once.encode()));
        assertEquals(once, twice);
        assertArrayEquals(once.encode(), twice.encode());
    }

    @Test
    void removeRestoresTheOriginalBytes() throws Exception {
        HostsContent added = ensure(HostsContent.decode(bytes(ORIGINAL)));
        assertArrayEquals(bytes(ORIGINAL), HostsContent.decode(added.encode()).withoutBlock().encode());
    }

    @Test
    void localhostIsAddedOnlyWhenMissing() throws Exception {
        HostsContent without = HostsContent.decode(bytes("10.0.0.5 nas\n"));
        assertEquals(List.of("127.0.0.1 localhost", "127.0.0.1 kubernetes.docker.internal"), ensure(without).blockLines());
        HostsContent with = HostsContent.decode(bytes("127.0.0.1 LocalHost # comment\n"));
        assertEquals(List.of("127.0.0.1 kubernetes.docker.internal"), ensure(with).blockLines());
        HostsContent commented = HostsContent.decode(bytes("# 127.0.0.1 localhost\n"));
        assertEquals(2, ensure(commented).blockLines().size());
    }

    @Test
    void anExistingBlockIsReplacedWhereItIs() throws Exception {
        String file = "a 1\n# Added by Slipway\n1.2.3.4 old.entry\n# End of Slipway section\nb 2\n";
        HostsContent next = ensure(HostsContent.decode(bytes(file)));
        assertEquals("a 1\n# Added by Slipway\n127.0.0.1 localhost\n127.0.0.1 kubernetes.docker.internal\n# End of Slipway section\nb 2\n",
                new String(next.encode(), StandardCharsets.UTF_8));
    }

    @Test
    void duplicateBlocksCollapseIntoOne() throws Exception {
        String file = "# Added by Slipway\nx\n# End of Slipway section\nkeep me\n# Added by Slipway\ny\n# End of Slipway section\n";
        HostsContent next = HostsContent.decode(bytes(file)).withoutBlock();
        assertEquals("keep me\n", new String(next.encode(), StandardCharsets.UTF_8));
    }

    @Test
    void anUnterminatedBlockIsRefusedAndNotGuessed() {
        HostsContent broken = assertDoesNotThrowDecode("1.1.1.1 a\n# Added by Slipway\n127.0.0.1 x\n");
        MalformedHostsException e = assertThrows(MalformedHostsException.class, () -> ensure(broken));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    private static HostsContent assertDoesNotThrowDecode(String s) {
        try {
            return HostsContent.decode(bytes(s));
        } catch (MalformedHostsException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void crlfLineEndingsAreKeptAndUsedForTheBlock() throws Exception {
        String file = "127.0.0.1 localhost\r\n# comment\r\n";
        String text = new String(ensure(HostsContent.decode(bytes(file))).encode(), StandardCharsets.UTF_8);
        assertEquals(file + "# Added by Slipway\r\n127.0.0.1 kubernetes.docker.internal\r\n# End of Slipway section\r\n", text);
    }

    @Test
    void aFileWithoutAFinalNewlineGetsOneBeforeTheBlock() throws Exception {
        String text = new String(ensure(HostsContent.decode(bytes("127.0.0.1 localhost"))).encode(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("127.0.0.1 localhost\n# Added by Slipway\n"), text);
    }

    @Test
    void utf8WithBomKeepsItsMarkAndItsNonAsciiBytes() throws Exception {
        byte[] original = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, bytes("# Grüße, 你好\n127.0.0.1 localhost\n"));
        HostsContent content = HostsContent.decode(original);
        assertEquals(HostsContent.Encoding.UTF8_BOM, content.encoding());
        byte[] next = ensure(content).encode();
        assertArrayEquals(original, java.util.Arrays.copyOf(next, original.length));
        assertArrayEquals(original, HostsContent.decode(next).withoutBlock().encode());
    }

    @Test
    void invalidUtf8OutsideTheBlockIsKeptByteForByte() throws Exception {
        byte[] original = concat(bytes("# latin-1: "), new byte[] {(byte) 0xE9, (byte) 0xFF, '\n'});
        byte[] next = ensure(HostsContent.decode(original)).encode();
        assertArrayEquals(original, java.util.Arrays.copyOf(next, original.length));
    }

    @Test
    void utf16LittleEndianWithBomStaysUtf16() throws Exception {
        byte[] body = "# Windows hosts\r\n127.0.0.1 localhost\r\n".getBytes(StandardCharsets.UTF_16LE);
        byte[] original = concat(new byte[] {(byte) 0xFF, (byte) 0xFE}, body);
        HostsContent content = HostsContent.decode(original);
        assertEquals(HostsContent.Encoding.UTF16LE_BOM, content.encoding());
        byte[] next = ensure(content).encode();
        assertEquals((byte) 0xFF, next[0]);
        assertEquals((byte) 0xFE, next[1]);
        String decoded = new String(next, 2, next.length - 2, StandardCharsets.UTF_16LE);
        assertTrue(decoded.endsWith("# Added by Slipway\r\n127.0.0.1 kubernetes.docker.internal\r\n# End of Slipway section\r\n"), decoded);
        assertArrayEquals(original, HostsContent.decode(next).withoutBlock().encode());
    }

    @Test
    void namesAndAddressesAreValidatedAgainstLineInjection() {
        for (String name : List.of("evil\nexample.com", "a b", "x#y", "", "-bad.example", "a..b", "tab\tname", "nul\0", "é.example")) {
            assertThrows(IllegalArgumentException.class, () -> HostsEntry.of("127.0.0.1", name), name);
        }
        for (String address : List.of("127.0.0.1\n1.2.3.4", "256.0.0.1", "localhost", "1.2.3", "::1 x", "fe80::1%eth0", "example.com")) {
            assertThrows(IllegalArgumentException.class, () -> HostsEntry.of(address, "ok.example"), address);
        }
        assertEquals("::1 ok.example", HostsEntry.of("::1", "ok.example").line());
        assertEquals("192.168.1.10 host.docker.internal", HostsEntry.of("192.168.1.10", "host.docker.internal").line());
    }

    @Test
    void windowsStyleConfigurationAddsHostAndGatewayNames() throws Exception {
        HostsContent content = HostsContent.decode(bytes("127.0.0.1 localhost\r\n"));
        HostsContent next = content.withBlock(HostsOperations.entries(content, Optional.of("10.1.2.3")), "\r\n");
        assertEquals(List.of("127.0.0.1 kubernetes.docker.internal", "10.1.2.3 host.docker.internal",
                "10.1.2.3 gateway.docker.internal"), next.blockLines());
        assertFalse(new String(next.encode(), StandardCharsets.UTF_8).contains("\n\n"));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

package dev.slipway.networking.stack.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.process.ProcessCommandRunner;

class PcapCaptureTest {
    @TempDir
    Path dir;

    static ByteBuffer frame(int length, int seed) {
        ByteBuffer f = ByteBuffer.allocateDirect(length + 10);
        for (int i = 0; i < length; i++) {
            f.put(i + 10, (byte) (seed + i));
        }
        return f.position(10).limit(10 + length);
    }

    @Test
    void aTruncatedFrameKeepsItsRealLengthAsTheOriginalLength() throws Exception {
        Path file = dir.resolve("t.pcap");
        try (PcapCapture capture = new PcapCapture(file, 64)) {
            capture.frame(frame(200, 1), System.nanoTime());
            capture.frame(frame(40, 2), System.nanoTime());
            for (int i = 0; i < 3000; i++) {
                capture.frame(frame(1514, i), System.nanoTime()); // past the buffer: written in several flushes
            }
        }
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.nativeOrder());
        assertEquals(0xa1b2c3d4, b.getInt(0), "microsecond timestamps, native byte order");
        assertEquals(2, b.getShort(4));
        assertEquals(4, b.getShort(6));
        assertEquals(64, b.getInt(16), "snaplen");
        assertEquals(1, b.getInt(20), "Ethernet");
        int r = 24;
        assertEquals(64, b.getInt(r + 8), "bytes kept");
        assertEquals(200, b.getInt(r + 12), "the frame's real length");
        assertEquals(1, b.get(r + 16));
        assertEquals((byte) 64, b.get(r + 16 + 63));
        r += 16 + 64;
        assertEquals(40, b.getInt(r + 8));
        assertEquals(40, b.getInt(r + 12));
        assertEquals(2, b.get(r + 16));
        r += 16 + 40;
        assertEquals(24 + 16 + 64 + 16 + 40 + 3000 * (16 + 64), b.capacity());
        assertEquals(1514, b.getInt(r + 12));
        long seconds = b.getInt(24) & 0xffff_ffffL;
        assertTrue(Math.abs(seconds - System.currentTimeMillis() / 1000) < 60, "timestamps are wall-clock");
    }

    @Test
    void tsharkReadsTheCaptureWithBothLengths() throws Exception {
        Assumptions.assumeTrue(new java.io.File("/usr/bin/tshark").canExecute(), "needs tshark: apt-get install -y tshark");
        Path file = dir.resolve("s.pcap");
        try (PcapCapture capture = new PcapCapture(file, 100)) {
            ByteBuffer f = frame(300, 0);
            f.put(10 + 12, (byte) 0x08).put(10 + 13, (byte) 0x06); // an ARP ethertype: any frame will do
            capture.frame(f, System.nanoTime());
        }
        var out = new ProcessCommandRunner().run(List.of("tshark", "-r", file.toString(), "-T", "fields", "-e", "frame.len", "-e",
                "frame.cap_len"), Duration.ofSeconds(30));
        assertEquals(0, out.exitCode(), out.stderr());
        assertEquals("300\t100", out.stdout().strip());
    }
}

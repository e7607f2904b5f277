package dev.slipway.networking.jmh;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import dev.slipway.networking.stack.ip.Checksum;

/** The Internet checksum of the stack against the textbook one (RFC 1071, 16 bits at a time), over a direct buffer. */
public class ChecksumBenchmark extends BenchmarkDefaults {

    /** An IPv4 header, a 1500-MTU TCP payload, a 64 KiB TSO segment. */
    @Param({"20", "1460", "65536"})
    public int bytes;

    private ByteBuffer data;

    @Setup
    public void fill() {
        data = ByteBuffer.allocateDirect(bytes);
        SplittableRandom random = new SplittableRandom(bytes);
        for (int i = 0; i < bytes; i++) {
            data.put(i, (byte) random.nextInt(256));
        }
        if (Checksum.compute(data, 0, bytes) != textbook(data, 0, bytes)) {
            throw new IllegalStateException("the two checksums disagree");
        }
    }

    @Benchmark
    public int slipway() {
        return Checksum.compute(data, 0, bytes);
    }

    @Benchmark
    public int textbook() {
        return textbook(data, 0, bytes);
    }

    static int textbook(ByteBuffer b, int offset, int length) {
        long sum = 0;
        int i = offset;
        int end = offset + length;
        for (; end - i >= 2; i += 2) {
            sum += b.getShort(i) & 0xffff;
        }
        if (i < end) {
            sum += (b.get(i) & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }
}

package dev.slipway.networking.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A guest data segment on an established connection, from the link to the host socket: parse,
 * checksum check (unless the link left it to us), connection lookup, the write into the loopback
 * host socket, then the batch's ACK to the guest. After each operation, outside the timing, the
 * host side reads everything, so every write finds room. The next segment starts where the stack's
 * ACK says.
 */
public class TcpSegmentInBenchmark extends BenchmarkDefaults {

    /**
     * 1460: one MTU-1500 segment whose checksum the stack verifies (QEMU stream, vpnkit); 64240:
     * one TSO segment from the tap with the checksum left partial (virtio NEEDS_CSUM).
     */
    @Param({"1460", "64240"})
    public int payloadBytes;

    private StackWithGuest guest;
    private StackWithGuest.Connection connection;
    private ByteBuffer segment;
    private int length;
    private long sumWithoutNumbers;
    private boolean partialChecksum;
    private final ByteBuffer hostSink = ByteBuffer.allocateDirect(256 * 1024);

    @Setup(Level.Trial)
    public void start() throws IOException, InterruptedException {
        partialChecksum = payloadBytes > StackWithGuest.MSS;
        guest = new StackWithGuest(1500, partialChecksum);
        connection = guest.connect(40001, 65535);
        connection.host().configureBlocking(false);
        segment = ByteBuffer.allocateDirect(GuestFrames.TCP + 20 + payloadBytes);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = GuestFrames.TCP + 20; i < segment.capacity(); i++) {
            segment.put(i, (byte) random.nextInt(256));
        }
        var config = guest.config;
        length = GuestFrames.tcp(segment, StackWithGuest.GUEST_MAC, config.gatewayMac(), guest.guestIp, config.hostAlias(),
                connection.guestPort(), connection.hostPort(), connection.guestNext(), connection.stackNext(),
                GuestFrames.ACK | GuestFrames.PSH, 65535, new byte[0], payloadBytes);
        sumWithoutNumbers = GuestFrames.sumWithoutNumbers(segment, length);
        int before = guest.link.lastAcknowledgement;
        segmentIn();
        hostReadsAll();
        if (guest.link.lastAcknowledgement - before != payloadBytes) {
            throw new IllegalStateException("the stack did not take the whole segment");
        }
    }

    @TearDown(Level.Invocation)
    public void hostReadsAll() throws IOException {
        while (connection.host().read(hostSink.clear()) > 0) {
            // the bytes are not looked at: the benchmark measures the stack's side
        }
    }

    @Benchmark
    public int segmentIn() {
        int seq = guest.link.lastAcknowledgement;
        GuestFrames.renumber(segment, seq, connection.stackNext(), sumWithoutNumbers);
        segment.limit(length).position(0);
        if (partialChecksum) {
            guest.receiver.framePartialChecksum(segment);
        } else {
            guest.receiver.frame(segment);
        }
        guest.receiver.endOfBatch();
        return seq;
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        guest.close();
        connection.host().close();
    }
}

package dev.slipway.networking.jmh;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Host data to guest frames, one 64240-byte window per operation: the guest's ACK of the last
 * window arrives, frees that much of the connection's (full) ring, the stack refills it from the
 * loopback host socket and sends the next window. With segmentation offload it goes out as one
 * 64 KiB TSO frame (checksum left to the link); without, the stack segments it in software into 44
 * MTU-1500 frames, each with its own headers and checksum.
 *
 * <p>Before each operation, outside the timing, the host writes one window into its socket (as much
 * of it as the socket takes), so every operation finds a window to read: the host sender's own cost
 * is not measured. Each iteration prints the bytes and frames sent per operation as a check.
 */
public class TcpSegmentOutBenchmark extends BenchmarkDefaults {
    private static final int WINDOW = 44 * StackWithGuest.MSS;

    @Param({"true", "false"})
    public boolean segmentationOffload;

    private StackWithGuest guest;
    private StackWithGuest.Connection connection;
    private final ByteBuffer ack = ByteBuffer.allocateDirect(128);
    private int ackLength;
    private long sumWithoutNumbers;
    private final ByteBuffer hostData = ByteBuffer.allocateDirect(WINDOW);
    private long operations;
    private long bytesAcknowledged;
    private int lastAcknowledged;
    private long framesBefore;

    @Setup(Level.Trial)
    public void start() throws IOException, InterruptedException {
        guest = new StackWithGuest(1500, segmentationOffload);
        connection = guest.connect(40002, WINDOW);
        // a full ring (1 MiB) plus two windows waiting in the socket: every ACK then refills and sends exactly one window
        ByteBuffer initial = ByteBuffer.allocateDirect(guest.config.tcpBufferBytes() + 2 * WINDOW);
        // a fixed send buffer far larger than what waits in it, so that no later write is cut short
        connection.host().setOption(StandardSocketOptions.SO_SNDBUF, 8 << 20);
        while (initial.hasRemaining()) {
            connection.host().write(initial);
        }
        connection.host().configureBlocking(false);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (guest.sentUpTo() - connection.stackNext() < WINDOW) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the stack sent no window of host data");
            }
            Thread.sleep(1);
        }
        var config = guest.config;
        ackLength = GuestFrames.tcp(ack, StackWithGuest.GUEST_MAC, config.gatewayMac(), guest.guestIp, config.hostAlias(),
                connection.guestPort(), connection.hostPort(), connection.guestNext(), connection.stackNext(),
                GuestFrames.ACK, WINDOW, new byte[0], 0);
        sumWithoutNumbers = GuestFrames.sumWithoutNumbers(ack, ackLength);
    }

    @Setup(Level.Iteration)
    public void count() {
        operations = 0;
        bytesAcknowledged = 0;
        lastAcknowledged = guest.link.sentUpTo;
        framesBefore = guest.link.framesSent;
    }

    @Setup(Level.Invocation)
    public void hostWritesAWindow() throws IOException {
        connection.host().write(hostData.clear());
    }

    @Benchmark
    public int segmentOut() {
        int acknowledged = guest.link.sentUpTo;
        GuestFrames.renumber(ack, connection.guestNext(), acknowledged, sumWithoutNumbers);
        guest.deliver(ack, ackLength);
        operations++;
        bytesAcknowledged += acknowledged - lastAcknowledged;
        lastAcknowledged = acknowledged;
        return acknowledged;
    }

    @TearDown(Level.Iteration)
    public void report() {
        if (operations > 0) {
            System.out.printf("  (%.0f bytes in %.1f frames to the guest per operation)%n",
                    (double) bytesAcknowledged / operations,
                    (double) (guest.link.framesSent - framesBefore) / operations);
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        guest.close();
        connection.host().close();
    }
}

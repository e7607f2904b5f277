package dev.slipway.networking.jmh;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One guest frame through the switch and the gateway: Ethernet and IPv4 parsing, checksum checks
 * and dispatch, up to the answer handed to the guest's link. The frame is first copied into the
 * link's buffer, as a transport's read would, since handling may rewrite it in place.
 */
public class FrameDispatchBenchmark extends BenchmarkDefaults {

    /**
     * {@code arp}: a who-has for the gateway, answered; {@code icmpEcho}: a 64-byte ping of the
     * gateway, answered; {@code tcpAck}: a pure ACK on an established connection (lookup and
     * acknowledgement processing, nothing to send).
     */
    @Param({"arp", "icmpEcho", "tcpAck"})
    public String frame;

    private StackWithGuest guest;
    private final ByteBuffer template = ByteBuffer.allocateDirect(2048);
    private final ByteBuffer linkBuffer = ByteBuffer.allocateDirect(2048);
    private int length;

    @Setup(Level.Trial)
    public void start() throws IOException, InterruptedException {
        guest = new StackWithGuest(1500, false);
        var config = guest.config;
        switch (frame) {
            case "arp" -> length = GuestFrames.arpRequest(template, StackWithGuest.GUEST_MAC, guest.guestIp, config.gateway());
            case "icmpEcho" -> length = GuestFrames.icmpEcho(template, StackWithGuest.GUEST_MAC, config.gatewayMac(),
                    guest.guestIp, config.gateway(), 56);
            case "tcpAck" -> {
                StackWithGuest.Connection c = guest.connect(40000, 65535);
                length = GuestFrames.tcp(template, StackWithGuest.GUEST_MAC, config.gatewayMac(), guest.guestIp,
                        config.hostAlias(), c.guestPort(), c.hostPort(), c.guestNext(), c.stackNext(), GuestFrames.ACK,
                        65535, new byte[0], 0);
            }
            default -> throw new IllegalArgumentException(frame);
        }
        long before = guest.link.framesSent;
        dispatch();
        if (!frame.equals("tcpAck") && guest.link.framesSent != before + 1) {
            throw new IllegalStateException(frame + " was not answered");
        }
    }

    @Benchmark
    public long dispatch() {
        linkBuffer.clear();
        linkBuffer.put(0, template, 0, length);
        linkBuffer.limit(length);
        guest.receiver.frame(linkBuffer);
        return guest.link.framesSent;
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException {
        guest.close();
    }
}

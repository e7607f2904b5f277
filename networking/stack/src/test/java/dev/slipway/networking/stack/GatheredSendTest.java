package dev.slipway.networking.stack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Host data to a link that gathers (the tap) goes out as headers plus payload straight from the
 * connection's ring; a running capture still sees whole frames. Either way the guest gets the
 * host's bytes in order.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GatheredSendTest {
    private static final int REPLY_BYTES = 300_000;

    NetStack stack;
    MemoryTransport link;
    MiniGuest guest;
    ServerSocket host;
    byte[] reply;

    @BeforeEach
    void start() throws Exception {
        stack = new NetStack(NetConfig.defaults());
        link = MemoryTransport.offloading();
        stack.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        guest.dhcp();
        host = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        reply = new byte[REPLY_BYTES];
        for (int i = 0; i < reply.length; i++) {
            reply[i] = (byte) (i * 31 + (i >> 8));
        }
        Thread server = new Thread(() -> {
            try (Socket s = host.accept()) {
                InputStream in = s.getInputStream();
                in.readNBytes(4);
                OutputStream out = s.getOutputStream();
                out.write(reply);
                out.flush();
                s.shutdownOutput();
                in.readAllBytes();
            } catch (Exception e) {
                // the test's assertions report what went wrong
            }
        }, "host server");
        server.setDaemon(true);
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        stack.close();
        host.close();
    }

    @Test
    void hostDataReachesTheGuestFromTheRingInTwoPieces() throws Exception {
        byte[] got = guest.tcpExchange(Frames.HOST_ALIAS, host.getLocalPort(), "ping".getBytes(), REPLY_BYTES);
        assertArrayEquals(reply, got);
        assertTrue(link.gatheredFrames.get() > 0, "no frame was sent in two pieces");
    }

    @Test
    void aRunningCaptureGetsWholeFramesAndTheGuestTheSameBytes() throws Exception {
        long[] capturedPayload = {0};
        stack.capture((frame, nanos) -> {
            if (frame.remaining() > 54 && frame.get(frame.position() + 23) == 6) {
                capturedPayload[0] += frame.remaining() - 54;
            }
        });
        byte[] got = guest.tcpExchange(Frames.HOST_ALIAS, host.getLocalPort(), "ping".getBytes(), REPLY_BYTES);
        assertArrayEquals(reply, got);
        assertEquals(0, link.gatheredFrames.get());
        assertTrue(capturedPayload[0] >= REPLY_BYTES, "the capture missed payload: " + capturedPayload[0]);
    }
}

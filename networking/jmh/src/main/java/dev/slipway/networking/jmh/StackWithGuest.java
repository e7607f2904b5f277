package dev.slipway.networking.jmh;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.transport.FrameReceiver;

/**
 * A real {@link NetStack} with one guest on a {@link GuestLink}, and a listening host socket on
 * the loopback that the guest's connections to the host alias reach.
 */
final class StackWithGuest implements AutoCloseable {
    static final long GUEST_MAC = 0x02_00_00_00_00_07L;
    static final int MSS = 1460;

    final NetConfig config;
    final NetStack stack;
    final GuestLink link;
    final FrameReceiver receiver;
    final int guestIp;
    final ServerSocketChannel hostListener;
    private final ByteBuffer handshake = ByteBuffer.allocateDirect(128);

    StackWithGuest(int mtu, boolean segmentationOffload) throws IOException, InterruptedException {
        config = NetConfig.builder().mtu(mtu).build();
        stack = new NetStack(config);
        link = new GuestLink(segmentationOffload);
        stack.attach(link);
        receiver = link.awaitReceiver();
        guestIp = config.firstGuest();
        hostListener = ServerSocketChannel.open();
        hostListener.bind(new InetSocketAddress(config.hostLoopback(), 0));
    }

    /** A guest connection to the host alias, established both ways; the guest announces {@code window} and no window scaling. */
    Connection connect(int guestPort, int window) throws IOException, InterruptedException {
        int hostPort = ((InetSocketAddress) hostListener.getLocalAddress()).getPort();
        int guestIss = 1_000_000;
        byte[] mssOption = {2, 4, (byte) (MSS >>> 8), (byte) MSS};
        link.synAckSeen = false;
        int n = GuestFrames.tcp(handshake, GUEST_MAC, config.gatewayMac(), guestIp, config.hostAlias(), guestPort, hostPort,
                guestIss, 0, GuestFrames.SYN, window, mssOption, 0);
        deliver(handshake, n);
        SocketChannel host = hostListener.accept();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!link.synAckSeen) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no SYN-ACK from the stack");
            }
            Thread.onSpinWait();
        }
        int stackIss = link.synAckSequence;
        n = GuestFrames.tcp(handshake, GUEST_MAC, config.gatewayMac(), guestIp, config.hostAlias(), guestPort, hostPort,
                guestIss + 1, stackIss + 1, GuestFrames.ACK, window, new byte[0], 0);
        deliver(handshake, n);
        return new Connection(guestPort, hostPort, guestIss + 1, stackIss + 1, host);
    }

    /** What the link has seen sent so far, for waits outside a frame hand-over. */
    int sentUpTo() {
        stack.transports(); // takes and releases the stack's lock: what its threads sent before is visible
        return link.sentUpTo;
    }

    /** Hands one frame to the stack as a transport's reader would, then ends the batch. */
    void deliver(ByteBuffer frame, int length) {
        frame.limit(length).position(0);
        receiver.frame(frame);
        receiver.endOfBatch();
    }

    @Override
    public void close() throws IOException {
        stack.close();
        hostListener.close();
    }

    /** An established connection: the guest's next sequence number, the stack's, and the host's socket. */
    record Connection(int guestPort, int hostPort, int guestNext, int stackNext, SocketChannel host) {}
}

package dev.slipway.networking.stack.transport;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Map;

/**
 * The names in a detached link's description ({@link Transport#detach()}), and the way back from a
 * description to a transport. A description holds JDK types only: the next version of the stack
 * reads it through its own copy of this class.
 */
public final class LinkHandover {

    public static final String KIND = "kind";
    public static final String TAP = "tap";
    public static final String FD = "fd";
    public static final String DEVICE = "device";
    public static final String CHANNEL = "channel";
    public static final String PENDING = "pending";
    public static final String NAME = "name";
    /**
     * The frames the previous version read but left for this one ({@code List<byte[]>}, each frame
     * after one byte that is 1 when its checksum is pending), switched before the link is read again.
     */
    public static final String HELD = "held";

    /** The frames held for the next version in a link's description, or none. */
    public static java.util.List<byte[]> held(Map<?, ?> link) {
        java.util.List<byte[]> frames = new java.util.ArrayList<>();
        if (link.get(HELD) instanceof java.util.List<?> list) {
            for (Object o : list) {
                if (o instanceof byte[] b) {
                    frames.add(b);
                }
            }
        }
        return frames;
    }

    private LinkHandover() {
    }

    /** The transport that goes on with a detached link. */
    public static Transport adopt(Map<?, ?> link, int mtu) throws IOException {
        Object kind = link.get(KIND);
        if (TAP.equals(kind) && link.get(FD) instanceof Integer fd && link.get(DEVICE) instanceof String device) {
            return TapTransport.adopt(device, fd, mtu);
        }
        if ((StreamTransport.Framing.QEMU.name().equals(kind) || StreamTransport.Framing.VPNKIT.name().equals(kind))
                && link.get(CHANNEL) instanceof SocketChannel channel && link.get(PENDING) instanceof byte[] pending
                && link.get(NAME) instanceof String name) {
            return StreamTransport.adopt(name, channel, StreamTransport.Framing.valueOf((String) kind), pending);
        }
        throw new IOException("unknown link description " + link.keySet() + " of kind " + kind);
    }

    /** Closes a detached link nobody goes on with. */
    public static void close(Map<?, ?> link) {
        if (link.get(FD) instanceof Integer fd) {
            dev.slipway.platform.linux.natives.FileDescriptors.closeQuietly(fd);
        }
        if (link.get(CHANNEL) instanceof SocketChannel channel) {
            try {
                channel.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}

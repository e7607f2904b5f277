package dev.slipway.networking.stack.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The server side of vpnkit's connection setup, as hyperkit-style clients speak it: both sides
 * send an init message ("VMN3T", a little-endian version, a 40-byte commit), the client sends the
 * Ethernet command (1) with its UUID, and the server answers with a vif response (type 1, MTU,
 * maximum packet size, the MAC the client is to use) padded to its 258-byte union. Frames follow
 * with 2-byte little-endian lengths.
 */
public final class VpnkitHandshake {
    static final byte[] MAGIC = "VMN3T".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 22;
    static final int INIT_BYTES = 5 + 4 + 40;
    static final int COMMAND_BYTES = 1 + 36 + 4;
    static final int RESPONSE_BYTES = 1 + 1 + 256;
    static final int COMMAND_ETHERNET = 1;

    /** What the client asked for and what it was given. */
    public record Vif(String uuid, long mac, int mtu) {}

    private VpnkitHandshake() {}

    /** Runs the handshake on a blocking channel. */
    public static Vif serve(SocketChannel channel, int mtu) throws IOException {
        ByteBuffer init = ByteBuffer.allocate(INIT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        StreamTransport.readFully(channel, init);
        for (int i = 0; i < MAGIC.length; i++) {
            if (init.get(i) != MAGIC[i]) {
                throw new IOException("not a vpnkit client: bad magic");
            }
        }
        ByteBuffer reply = ByteBuffer.allocate(INIT_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        reply.put(MAGIC).putInt(VERSION);
        byte[] commit = new byte[40];
        java.util.Arrays.fill(commit, (byte) '0');
        reply.put(commit).flip();
        writeFully(channel, reply);
        ByteBuffer command = ByteBuffer.allocate(COMMAND_BYTES);
        StreamTransport.readFully(channel, command);
        if (command.get(0) != COMMAND_ETHERNET) {
            throw new IOException("unsupported vpnkit command " + command.get(0));
        }
        byte[] uuidBytes = new byte[36];
        command.get(1, uuidBytes);
        String uuid = new String(uuidBytes, StandardCharsets.US_ASCII);
        long mac = macFor(uuid);
        ByteBuffer vif = ByteBuffer.allocate(RESPONSE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        vif.put((byte) 1).putShort((short) mtu).putShort((short) Math.min(65535, mtu + 50));
        for (int i = 5; i >= 0; i--) {
            vif.put((byte) (mac >>> (8 * i)));
        }
        vif.position(RESPONSE_BYTES).flip();
        writeFully(channel, vif);
        return new Vif(uuid, mac, mtu);
    }

    /** A stable, locally administered unicast MAC for a client UUID: the same VM gets the same lease. */
    static long macFor(String uuid) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(uuid.getBytes(StandardCharsets.US_ASCII));
            long mac = 0x02;
            for (int i = 0; i < 5; i++) {
                mac = mac << 8 | (h[i] & 0xff);
            }
            return mac;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeFully(SocketChannel channel, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }
}

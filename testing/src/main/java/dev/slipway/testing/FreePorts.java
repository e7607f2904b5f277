package dev.slipway.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback ports for servers a test starts in another process. */
public final class FreePorts {
    private FreePorts() {
    }

    /**
     * A port of the loopback address free for both UDP and TCP right now (a DNS listener binds
     * both): a UDP port the kernel chose whose TCP twin binds too, tried up to 50 times. Another
     * process may still take it before the caller's server binds; that is left to chance.
     */
    public static int udpAndTcp() {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        for (int attempt = 0; attempt < 50; attempt++) {
            try (DatagramSocket udp = new DatagramSocket(0, loopback)) {
                int port = udp.getLocalPort();
                try (ServerSocket tcp = new ServerSocket(port, 1, loopback)) {
                    return port;
                } catch (IOException taken) {
                    // a TCP socket holds that port (a listener, or a connection's local end): another one
                }
            } catch (IOException e) {
                throw new UncheckedIOException("no UDP port on the loopback address", e);
            }
        }
        throw new IllegalStateException("no loopback port free for both UDP and TCP in 50 tries");
    }
}

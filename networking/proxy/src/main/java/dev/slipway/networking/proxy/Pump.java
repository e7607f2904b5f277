package dev.slipway.networking.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/** One direction of a spliced connection: bytes copied until the end of the stream, bounded by an idle timeout. */
final class Pump {
    private Pump() {
    }

    /** How a copy half-closes its destination at the end of the stream. */
    interface Shutdown {
        void shutdown() throws IOException;
    }

    static void copy(InputStream from, OutputStream out, Shutdown end, java.io.Closeable onFailure, AtomicLong lastActive,
                             long idleNanos) throws IOException {
        byte[] buf = new byte[65536];
        try {
            while (true) {
                int n;
                try {
                    n = from.read(buf);
                } catch (SocketTimeoutException e) {
                    if (System.nanoTime() - lastActive.get() > idleNanos) {
                        throw new IOException("idle for longer than " + idleNanos / 1_000_000_000L + " s");
                    }
                    continue;
                }
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                lastActive.set(System.nanoTime());
            }
            end.shutdown();
        } catch (IOException e) {
            try {
                onFailure.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

}

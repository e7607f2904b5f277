package dev.slipway.networking.stack.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * A guest-side connection load on one thread with non-blocking sockets, so that the client is not
 * what limits the measurement (the same client runs over a kernel veth pair as the reference).
 * Every connection connects, optionally echoes one byte, and closes with a reset (SO_LINGER 0), so
 * no TIME-WAIT is left in the guest to exhaust its ports; {@code cycle} can close every other one
 * with a FIN after an echoed byte instead ({@code mixed}).
 *
 * <pre>
 * rate  HOST PORT SECONDS PARALLEL ECHO          prints "CONNECTIONS_PER_SECOND FAILED"
 * cycle HOST PORT COUNT PARALLEL PID CHECKPOINTS SECONDS [reset|mixed]
 *       prints "CONNECTIONS RSS_KB FDS FAILED ELAPSED" of process PID at each checkpoint (comma-separated
 *       counts) and at the end; stops early (and says so in CONNECTIONS) after SECONDS
 * hold  HOST PORT COUNT                          prints "WORKING OPENED": all opened and held, then each echoes a byte
 * </pre>
 */
public final class ConnectionLoad {
    private static final long CONNECTION_TIMEOUT_NANOS = 5_000_000_000L;

    private final InetSocketAddress target;
    private final Selector selector;
    private final ByteBuffer oneByte = ByteBuffer.allocateDirect(1);
    private final boolean echo;
    private final boolean everyOtherGraceful;
    private long started;
    long completed;
    long failed;
    private int inFlight;

    private ConnectionLoad(InetSocketAddress target, boolean echo, boolean everyOtherGraceful) throws IOException {
        this.target = target;
        this.echo = echo;
        this.everyOtherGraceful = everyOtherGraceful;
        this.selector = Selector.open();
    }

    /** Per-connection state: when it started (for the timeout) and whether it ends with a FIN after an echo. */
    private static final class Attempt {
        final long started = System.nanoTime();
        final boolean graceful;

        Attempt(boolean graceful) {
            this.graceful = graceful;
        }
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress target = new InetSocketAddress(args[1], Integer.parseInt(args[2]));
        switch (args[0]) {
            case "rate" -> {
                ConnectionLoad load = new ConnectionLoad(target, Integer.parseInt(args[5]) != 0, false);
                long seconds = Long.parseLong(args[3]);
                int parallel = Integer.parseInt(args[4]);
                long start = System.nanoTime();
                load.run(parallel, Long.MAX_VALUE, start + seconds * 1_000_000_000L);
                double elapsed = (System.nanoTime() - start) / 1e9;
                System.out.printf(Locale.ROOT, "%.0f %d%n", load.completed / elapsed, load.failed);
            }
            case "cycle" -> {
                ConnectionLoad load = new ConnectionLoad(target, false, args.length > 8 && args[8].equals("mixed"));
                long count = Long.parseLong(args[3]);
                int parallel = Integer.parseInt(args[4]);
                long pid = Long.parseLong(args[5]);
                List<Long> checkpoints = new ArrayList<>();
                for (String c : args[6].split(",")) {
                    checkpoints.add(Math.min(count, Long.parseLong(c)));
                }
                checkpoints.add(count);
                long start = System.nanoTime();
                long deadline = start + Long.parseLong(args[7]) * 1_000_000_000L;
                long reached = -1;
                for (long checkpoint : checkpoints) {
                    if (checkpoint <= reached) {
                        continue;
                    }
                    load.run(parallel, checkpoint - load.completed - load.failed, deadline);
                    reached = load.completed + load.failed;
                    Thread.sleep(1000); // let the stack finish closing what the last resets tore down
                    System.out.printf(Locale.ROOT, "%d %d %d %d %.1f%n", reached, rssKb(pid), descriptors(pid), load.failed,
                            (System.nanoTime() - start) / 1e9);
                    System.out.flush();
                    if (reached < checkpoint) {
                        break;
                    }
                }
            }
            case "hold" -> System.out.println(hold(target, Integer.parseInt(args[3])));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /** Runs connections until {@code count} have finished (completed or failed) or {@code deadline} passes. */
    private void run(int parallel, long count, long deadline) throws IOException {
        long base = completed + failed;
        long lastSweep = System.nanoTime();
        while (true) {
            long now = System.nanoTime();
            boolean timeUp = now - deadline >= 0;
            while (!timeUp && inFlight < parallel && completed + failed - base + inFlight < count) {
                start();
            }
            if (inFlight == 0) {
                selector.selectNow(); // a closed channel's socket is released (and its reset sent) only when its selector next selects
                return;
            }
            selector.select(100);
            for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey key = it.next();
                it.remove();
                step(key);
            }
            if (now - lastSweep > 1_000_000_000L) {
                lastSweep = now;
                for (SelectionKey key : new ArrayList<>(selector.keys())) {
                    if (key.isValid() && now - ((Attempt) key.attachment()).started > CONNECTION_TIMEOUT_NANOS) {
                        finish(key, false);
                    }
                }
            }
        }
    }

    private void start() throws IOException {
        SocketChannel channel = SocketChannel.open();
        channel.configureBlocking(false);
        Attempt attempt = new Attempt(everyOtherGraceful && (started++ & 1) == 1);
        if (!attempt.graceful) {
            channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        inFlight++;
        try {
            if (channel.connect(target)) {
                SelectionKey key = channel.register(selector, 0, attempt);
                connected(key);
            } else {
                channel.register(selector, SelectionKey.OP_CONNECT, attempt);
            }
        } catch (IOException e) {
            inFlight--;
            failed++;
            channel.close();
        }
    }

    private boolean step(SelectionKey key) throws IOException {
        SocketChannel channel = (SocketChannel) key.channel();
        try {
            if (key.isConnectable()) {
                if (!channel.finishConnect()) {
                    return false;
                }
                return connected(key);
            }
            if (key.isReadable()) {
                oneByte.clear();
                int n = channel.read(oneByte);
                if (n == 0) {
                    return false;
                }
                finish(key, n == 1);
                return true;
            }
        } catch (IOException e) {
            finish(key, false);
            return true;
        }
        return false;
    }

    private boolean connected(SelectionKey key) throws IOException {
        if (!echo && !((Attempt) key.attachment()).graceful) {
            finish(key, true);
            return true;
        }
        oneByte.clear().put((byte) 42).flip();
        ((SocketChannel) key.channel()).write(oneByte);
        key.interestOps(SelectionKey.OP_READ);
        return false;
    }

    private void finish(SelectionKey key, boolean ok) throws IOException {
        inFlight--;
        if (ok) {
            completed++;
        } else {
            failed++;
        }
        key.cancel();
        key.channel().close();
    }

    /** Opens {@code count} connections and holds them all; then each sends a byte and reads its echo. */
    static String hold(InetSocketAddress target, int count) throws IOException {
        Selector selector = Selector.open();
        List<SocketChannel> open = new ArrayList<>(count);
        int connecting = 0;
        int started = 0;
        long deadline = System.nanoTime() + 60_000_000_000L;
        try {
            while ((started < count || connecting > 0) && System.nanoTime() < deadline) {
                while (started < count && connecting < 256) {
                    // closed gracefully at the end: a FIN the guest sends again if it is lost, where a
                    // reset lost in a burst of ten thousand would leave its connection open
                    SocketChannel c = SocketChannel.open();
                    c.configureBlocking(false);
                    started++;
                    try {
                        if (c.connect(target)) {
                            open.add(c);
                        } else {
                            c.register(selector, SelectionKey.OP_CONNECT);
                            connecting++;
                        }
                    } catch (IOException e) {
                        c.close();
                    }
                }
                selector.select(100);
                for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey key = it.next();
                    it.remove();
                    SocketChannel c = (SocketChannel) key.channel();
                    try {
                        if (c.finishConnect()) {
                            key.interestOps(0);
                            open.add(c);
                            connecting--;
                        }
                    } catch (IOException e) {
                        key.cancel();
                        c.close();
                        connecting--;
                    }
                }
            }
            // every connection is open at once here; now each must still carry a byte both ways
            ByteBuffer b = ByteBuffer.allocate(1);
            for (int i = 0; i < open.size(); i++) {
                b.clear().put((byte) (i & 0x7f)).flip();
                try {
                    open.get(i).write(b);
                } catch (IOException e) {
                    // counted as not working below
                }
            }
            int working = 0;
            byte[] got = new byte[open.size()];
            boolean[] done = new boolean[open.size()];
            long readDeadline = System.nanoTime() + 30_000_000_000L;
            int pending = open.size();
            while (pending > 0 && System.nanoTime() < readDeadline) {
                int progress = 0;
                for (int i = 0; i < open.size(); i++) {
                    if (done[i]) {
                        continue;
                    }
                    b.clear();
                    int n;
                    try {
                        n = open.get(i).read(b);
                    } catch (IOException e) {
                        n = -1;
                    }
                    if (n != 0) {
                        done[i] = true;
                        pending--;
                        progress++;
                        if (n == 1) {
                            got[i] = b.get(0);
                            if (got[i] == (byte) (i & 0x7f)) {
                                working++;
                            }
                        }
                    }
                }
                if (progress == 0) {
                    try {
                        Thread.sleep(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
            return working + " " + open.size();
        } finally {
            for (SocketChannel c : open) {
                c.close();
            }
            selector.close();
        }
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static long descriptors(long pid) {
        String[] fds = new java.io.File("/proc/" + pid + "/fd").list();
        return fds == null ? -1 : fds.length;
    }
}

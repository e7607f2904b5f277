package dev.slipway.networking.stack.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The VM's network link as the runtime keeps it: the "emulator" here is a listener whose accepted
 * connections play QEMU's stream netdev, the attacher connects to it as the helper would. One link at
 * a time; a link the emulator ends is asked for again; a failing helper is tried a bounded number of
 * times; no running VM is no error and no retry; the helper's news of a start brings a link.
 */
@Timeout(30)
class VmNetworkLinkTest {
    @TempDir
    Path dir;
    ServerSocketChannel emulator;
    final BlockingQueue<SocketChannel> emulatorSide = new LinkedBlockingQueue<>();
    final List<Transport> attached = new CopyOnWriteArrayList<>();
    final AtomicInteger requests = new AtomicInteger();
    VmNetworkLink link;

    @BeforeEach
    void listen() throws IOException {
        emulator = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(dir.resolve("qemu.sock")));
    }

    @AfterEach
    void close() throws IOException {
        if (link != null) {
            link.close();
        }
        for (Transport t : attached) {
            t.close();
        }
        emulator.close();
    }

    /** The stack's part: reads each attached link on a thread of its own until it ends. */
    private VmNetworkLink link(long... retryMillis) throws IOException {
        link = new VmNetworkLink(dir.resolve("network.sock"), t -> {
            attached.add(t);
            Thread reader = new Thread(() -> {
                try {
                    t.run(new FrameReceiver() {
                        @Override public void frame(ByteBuffer frame) { }
                        @Override public void endOfBatch() { }
                    });
                } catch (IOException | RuntimeException e) {
                    // the emulator's side went away, or the test closed the link
                }
            });
            reader.setDaemon(true);
            reader.start();
        }, retryMillis);
        return link;
    }

    private Optional<SocketChannel> connect() throws IOException {
        requests.incrementAndGet();
        SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("qemu.sock")));
        emulatorSide.add(emulator.accept());
        return Optional.of(c);
    }

    @Test
    void oneLinkAtATimeAndALinkTheEmulatorEndsIsAskedForAgain() throws Exception {
        link(50);
        link.attacher(this::connect);
        await(() -> attached.size() == 1);
        assertTrue(attached.get(0).name().startsWith(VmNetworkLink.NAME_PREFIX), attached.get(0).name());
        link.attacher(this::connect);
        TimeUnit.MILLISECONDS.sleep(300);
        assertEquals(1, attached.size(), "a helper found again while the link is up asks for no second one");
        assertEquals(1, requests.get());

        emulatorSide.take().close();
        await(() -> attached.size() == 2);
        assertEquals(2, requests.get());
        assertTrue(link.link().isPresent());
    }

    @Test
    void aFailingHelperIsTriedABoundedNumberOfTimes() throws Exception {
        link(10, 10, 10);
        link.attacher(() -> {
            requests.incrementAndGet();
            throw new IOException("the helper is restarting");
        });
        await(() -> requests.get() == 4);
        TimeUnit.MILLISECONDS.sleep(300);
        assertEquals(4, requests.get(), "one try and three more, then it waits for news");
        assertTrue(attached.isEmpty());
    }

    @Test
    void noRunningVmIsNoErrorAndTheNewsOfAStartBringsTheLink() throws Exception {
        link(10);
        AtomicInteger empty = new AtomicInteger();
        link.attacher(() -> {
            if (empty.incrementAndGet() == 1) {
                return Optional.empty();
            }
            return connect();
        });
        await(() -> empty.get() == 1);
        TimeUnit.MILLISECONDS.sleep(200);
        assertEquals(1, empty.get(), "no retry while no VM runs");
        assertTrue(attached.isEmpty());

        // the helper's news: a connection to network.sock, closed once the emulator runs
        SocketChannel news = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("network.sock")));
        TimeUnit.MILLISECONDS.sleep(200);
        assertTrue(attached.isEmpty(), "nothing is asked for before the news ends");
        news.close();
        await(() -> attached.size() == 1);
        assertTrue(Files.exists(dir.resolve("network.sock")));
        link.close();
        assertTrue(!Files.exists(dir.resolve("network.sock")), "the news socket goes with the link keeper");
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline && !condition.getAsBoolean()) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertTrue(condition.getAsBoolean(), "timed out");
    }
}

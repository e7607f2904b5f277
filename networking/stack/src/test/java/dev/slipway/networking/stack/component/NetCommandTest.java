package dev.slipway.networking.stack.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import dev.slipway.api.control.CommandResult;
import dev.slipway.networking.stack.Frames;
import dev.slipway.networking.stack.MemoryTransport;
import dev.slipway.networking.stack.MiniGuest;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.process.ProcessCommandRunner;

/** {@code slipway net status}, {@code slipway net capture} and the status section. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NetCommandTest {
    NetStack stack;
    MemoryTransport link;
    MiniGuest guest;
    NetCommand command;

    @BeforeEach
    void start() throws Exception {
        stack = new NetStack(NetConfig.defaults());
        link = new MemoryTransport();
        stack.attach(link);
        guest = MiniGuest.on(link, Frames.GUEST_MAC);
        command = new NetCommand(() -> stack);
    }

    @AfterEach
    void stop() {
        stack.close();
    }

    @Test
    void statusShowsLeasesConnectionsTrafficAndDrops() throws Exception {
        guest.dhcp();
        link.inject(Frames.eth(Frames.GATEWAY_MAC, Frames.GUEST_MAC, 0x88b5, 50));
        Thread.sleep(200);
        CommandResult r = command.execute(List.of("status"));
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("ip: 192.168.65.3"), r.out());
        assertTrue(r.out().contains("unknown-ethertype: 1"), r.out());
        assertTrue(r.out().contains("fromGuestFrames"), r.out());
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) new NetStatus(() -> stack).status();
        assertTrue(json.containsKey("leases") && json.containsKey("tcp") && json.containsKey("drops"), json.toString());
    }

    @Test
    void badArgumentsGiveUsage() throws Exception {
        assertEquals(2, command.execute(List.of()).exitCode());
        assertEquals(2, command.execute(List.of("capture")).exitCode());
        assertEquals(2, command.execute(List.of("capture", "x.pcap", "--snaplen", "many")).exitCode());
        assertEquals(2, command.execute(List.of("frobnicate")).exitCode());
    }

    @Test
    void captureWritesAPcapThatTsharkReads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("net.pcap");
        Thread traffic = new Thread(() -> {
            try {
                Thread.sleep(1500);
                guest.dhcp();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        traffic.start();
        CommandResult r = command.execute(List.of("capture", file.toString(), "--seconds", "4"));
        traffic.join();
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.size(file) > 24, "pcap header and frames");
        Assumptions.assumeTrue(new java.io.File("/usr/bin/tshark").canExecute(), "needs tshark: apt-get install -y tshark");
        var out = new ProcessCommandRunner().run(List.of("tshark", "-r", file.toString(), "-T", "fields", "-e", "dhcp.option.dhcp"),
                Duration.ofSeconds(30));
        assertEquals(0, out.exitCode(), out.stderr());
        List<String> types = out.stdout().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        assertEquals(List.of("1", "2", "3", "5"), types);
        Path small = dir.resolve("small.pcap");
        CommandResult truncated = command.execute(List.of("capture", small.toString(), "--snaplen", "100", "--seconds", "1"));
        assertEquals(0, truncated.exitCode(), truncated.err());
    }
}

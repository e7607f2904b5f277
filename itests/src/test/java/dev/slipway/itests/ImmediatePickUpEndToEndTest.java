package dev.slipway.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;

import dev.slipway.testing.FreePorts;

/**
 * fileinstall's poll is an hour in the runtime (an idle runtime must not wake to look at deploy/ and
 * conf/): a configuration edited in {@code conf/} and a jar dropped into {@code deploy/} still take
 * effect at once, because the OS's file notifications wake fileinstall. Each step prints how long
 * it took; the waits are bounded far above that, as the machine may be loaded.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ImmediatePickUpEndToEndTest {

    private static final byte[] HOST_ALIAS = {(byte) 192, (byte) 168, 65, (byte) 254};
    private static final long LIMIT_MS = 30_000;
    private static final String NO_UPSTREAM = "upstreams = 127.0.0.1:9\nupstreamTimeoutMs = 100\nqueryTimeoutMs = 200\n";

    @TempDir
    Path home;

    private int dnsPort;

    @AfterEach
    void down() throws Exception {
        slipway("down");
    }

    @Test
    void aConfigurationEditAndAJarDropTakeEffectWithoutWaitingForThePoll() throws Exception {
        dnsPort = FreePorts.udpAndTcp();
        // names the runtime does not know go to a closed loopback port, never to the host's resolvers
        Path cfg = home.resolve("conf/dev.slipway.dns.cfg");
        Files.createDirectories(cfg.getParent());
        Files.writeString(cfg, NO_UPSTREAM + "hostNames = probe-zero.slipway.test\n");
        SlipwayCommand.Run up = slipway("up", "-d", "--dns-listen", "127.0.0.1:" + dnsPort);
        assertEquals(0, up.exitCode(), up.out() + up.err() + log());
        awaitAnswer("probe-zero.slipway.test", System.nanoTime(), "the configuration at start");
        // let the start's own scans finish, so that fileinstall's watchers are in their hour-long wait
        Thread.sleep(3000);
        assertTrue(!answers("probe-one.slipway.test"), "not a built-in name yet");

        long started = System.nanoTime();
        replace(cfg, NO_UPSTREAM + "hostNames = probe-one.slipway.test\n");
        awaitAnswer("probe-one.slipway.test", started, "conf/dev.slipway.dns.cfg replaced by rename");

        started = System.nanoTime();
        Files.writeString(cfg, NO_UPSTREAM + "hostNames = probe-two.slipway.test\n");
        awaitAnswer("probe-two.slipway.test", started, "conf/dev.slipway.dns.cfg edited in place");

        Path jar = NewerBundle.withVersion(NewerBundle.distJar("dev.slipway.dns"), "0.1.8", home.resolve("dns-0.1.8.jar"));
        started = System.nanoTime();
        Files.move(jar, home.resolve("deploy/dev.slipway.dns-0.1.8.jar"), StandardCopyOption.ATOMIC_MOVE);
        JsonObject update = awaitUpdate("dev.slipway.dns", started);
        assertEquals("updated", update.get("result").getAsString(), update.toString());
        assertEquals("0.1.8", update.get("to").getAsString(), update.toString());
        assertTrue(answers("probe-two.slipway.test"), "the new version answers with the configuration");
    }

    private void awaitAnswer(String name, long started, String what) throws Exception {
        long until = started + TimeUnit.MILLISECONDS.toNanos(LIMIT_MS);
        while (!answers(name)) {
            assertTrue(System.nanoTime() < until, what + ": not answered within " + LIMIT_MS + " ms" + log());
            Thread.sleep(20);
        }
        System.out.printf("%s: answered after %d ms%n", what, (System.nanoTime() - started) / 1_000_000);
    }

    private JsonObject awaitUpdate(String symbolicName, long started) throws Exception {
        long until = started + TimeUnit.MILLISECONDS.toNanos(LIMIT_MS);
        while (System.nanoTime() < until) {
            JsonObject deploy = status().getAsJsonObject("deploy");
            if (deploy != null && deploy.getAsJsonObject("updates").has(symbolicName)) {
                JsonObject update = deploy.getAsJsonObject("updates").getAsJsonObject(symbolicName);
                if (!update.get("result").getAsString().isEmpty()) {
                    System.out.printf("a jar dropped into deploy/: %s %s after %d ms%n", symbolicName,
                            update.get("result").getAsString(), (System.nanoTime() - started) / 1_000_000);
                    return update;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no update of " + symbolicName + " within " + LIMIT_MS + " ms" + log());
    }

    private static void replace(Path file, String text) throws IOException {
        Path part = file.resolveSibling(file.getFileName() + ".part");
        Files.writeString(part, text);
        Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Whether the runtime's DNS answers {@code name} with the host alias address (an A query to --dns-listen). */
    private boolean answers(String name) throws IOException {
        byte[] query = aQuery(name);
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(1000);
            socket.send(new DatagramPacket(query, query.length, new InetSocketAddress(InetAddress.getLoopbackAddress(), dnsPort)));
            byte[] buffer = new byte[512];
            DatagramPacket reply = new DatagramPacket(buffer, buffer.length);
            socket.receive(reply);
            int answers = ((buffer[6] & 0xff) << 8) | (buffer[7] & 0xff);
            int length = reply.getLength();
            return buffer[0] == query[0] && buffer[1] == query[1] && answers > 0 && length >= 4
                    && Arrays.equals(HOST_ALIAS, Arrays.copyOfRange(buffer, length - 4, length));
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    private static byte[] aQuery(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int id = (int) (System.nanoTime() & 0xffff);
        out.writeBytes(new byte[] {(byte) (id >> 8), (byte) id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0});
        for (String label : name.split("\\.")) {
            byte[] bytes = label.getBytes(StandardCharsets.US_ASCII);
            out.write(bytes.length);
            out.writeBytes(bytes);
        }
        out.writeBytes(new byte[] {0, 0, 1, 0, 1});
        return out.toByteArray();
    }

    private JsonObject status() throws Exception {
        return new SlipwayCommand(home).status();
    }

    private String log() throws IOException {
        String log = new SlipwayCommand(home).log();
        return log.isEmpty() ? "" : "\n" + log;
    }

    private SlipwayCommand.Run slipway(String... args) throws IOException, InterruptedException {
        return new SlipwayCommand(home).run(args);
    }
}

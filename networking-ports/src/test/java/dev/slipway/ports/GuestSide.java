package dev.slipway.ports;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/** Commands on the host and in the test's namespaces, and the servers the tests run inside them. */
final class GuestSide {
    private GuestSide() {
    }

    /** A TCP and UDP echo server on port 7 (asyncio: one thread, thousands of connections). */
    static final String ECHO_SERVER = """
            import asyncio
            async def handle(r, w):
                try:
                    while True:
                        d = await r.read(262144)
                        if not d:
                            break
                        w.write(d)
                        await w.drain()
                except ConnectionError:
                    pass
                finally:
                    w.close()
            class Udp(asyncio.DatagramProtocol):
                def connection_made(self, t):
                    self.t = t
                def datagram_received(self, d, a):
                    self.t.sendto(d, a)
            async def main():
                loop = asyncio.get_running_loop()
                await loop.create_datagram_endpoint(Udp, local_addr=('0.0.0.0', 7))
                s = await asyncio.start_server(handle, '0.0.0.0', 7, backlog=4096)
                async with s:
                    await s.serve_forever()
            asyncio.run(main())
            """;

    record Out(int exit, String stdout, String stderr) {
    }

    static boolean has(String tool) {
        for (String dir : (System.getenv().getOrDefault("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin").split(":")) {
            if (new File(dir, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }

    static void assumeRootWith(String... tools) {
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root for network namespaces and tap devices: run the tests as root (CI does)");
        Assumptions.assumeTrue(new File("/dev/net/tun").exists(), "needs /dev/net/tun (the tun module)");
        for (String t : tools) {
            Assumptions.assumeTrue(has(t), "needs " + t + ": apt-get install -y " + switch (t) {
                case "ip" -> "iproute2";
                case "busybox" -> "busybox-static";
                case "python3" -> "python3";
                default -> t;
            });
        }
    }

    static Out run(Duration timeout, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        Thread a = new Thread(() -> copy(p.getInputStream(), out));
        Thread b = new Thread(() -> copy(p.getErrorStream(), err));
        a.start();
        b.start();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        a.join(2000);
        b.join(2000);
        return new Out(p.isAlive() ? -1 : p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Process startInNs(String ns, String... command) throws IOException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(Arrays.asList(command));
        return new ProcessBuilder(c).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    static void stop(Process p) {
        if (p != null) {
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void copy(java.io.InputStream in, java.io.OutputStream out) {
        try (in) {
            in.transferTo(out);
        } catch (IOException e) {
            // the process ended
        }
    }

    static void delNs(String name) {
        try {
            run(Duration.ofSeconds(10), "ip", "netns", "del", name);
        } catch (IOException | InterruptedException e) {
            // best effort
        }
    }
}

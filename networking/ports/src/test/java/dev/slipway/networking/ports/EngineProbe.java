package dev.slipway.networking.ports;

import java.lang.reflect.Constructor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import dev.slipway.networking.stack.link.FrameTap;

/**
 * Boots the engine guest for measuring its data path by hand: DOCKER_CONFIG for the {@code slipway}
 * context goes to DIR/info, then commands written to DIR/cmd are answered in DIR/reply:
 * {@code capture FILE} (the switch's frames to a pcap, 200-byte snap length), {@code stop},
 * {@code expose LOCAL REMOTE} (a TCP port published by hand), {@code status} (the stack's),
 * {@code console}, {@code quit}. Ends by itself after 90 minutes.
 * Usage (as root, the class path as bench/engine.sh builds it): EngineProbe DIR
 */
public final class EngineProbe {
    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        try (EngineLab lab = new EngineLab("")) {
            double ready = lab.bootUntilReady(Duration.ofMinutes(10));
            Files.writeString(dir.resolve("info"), "ready " + ready + "\nDOCKER_CONFIG=" + lab.dockerConfig + "\n");
            System.out.println("READY " + lab.dockerConfig);
            Class<?> pc = Class.forName("dev.slipway.networking.stack.component.PcapCapture");
            Constructor<?> ctor = pc.getDeclaredConstructor(Path.class, int.class);
            ctor.setAccessible(true);
            AutoCloseable capture = null;
            long deadline = System.nanoTime() + Duration.ofMinutes(90).toNanos();
            while (System.nanoTime() < deadline) {
                Path cmd = dir.resolve("cmd");
                if (Files.exists(cmd)) {
                    String c = Files.readString(cmd).strip();
                    Files.delete(cmd);
                    String reply;
                    if (c.startsWith("capture ")) {
                        capture = (AutoCloseable) ctor.newInstance(Path.of(c.substring(8)), 200);
                        lab.network.stack().capture((FrameTap) capture);
                        reply = "capturing";
                    } else if (c.equals("stop")) {
                        lab.network.stack().capture(null);
                        if (capture != null) {
                            capture.close();
                        }
                        reply = "stopped";
                    } else if (c.startsWith("expose ")) {
                        String[] a = c.split(" ");
                        lab.forwarder.expose(new PublishedPort("tcp", a[1], a[2]), false);
                        reply = "exposed";
                    } else if (c.equals("status")) {
                        reply = lab.network.stack().status().toString();
                    } else if (c.equals("console")) {
                        reply = lab.vm.console();
                    } else if (c.equals("quit")) {
                        Files.writeString(dir.resolve("reply"), "bye");
                        return;
                    } else {
                        reply = "unknown " + c;
                    }
                    Files.writeString(dir.resolve("reply.tmp"), reply);
                    Files.move(dir.resolve("reply.tmp"), dir.resolve("reply"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                Thread.sleep(100);
            }
        }
    }
}

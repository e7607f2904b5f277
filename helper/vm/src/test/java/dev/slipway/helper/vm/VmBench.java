package dev.slipway.helper.vm;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.slipway.testing.GuestImage;

/**
 * bench/vm.sh: the same tiny guest booted through the VM manager with Slipway's QEMU stream
 * network, and beside it, in the same run, under QEMU's own user-mode network (libslirp, the
 * peer). Measures the time from the start call to the guest's DHCP lease and iperf3 from the guest
 * to an iperf3 server on the host's 127.0.0.1 (Slipway's host alias 192.168.65.254, slirp's 10.0.2.2).
 * Usage: VmBench RUNS SECONDS
 */
public final class VmBench {

    static final String INIT = """
            T=$(sed -n 's/.*slipway.target=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
            P=$(sed -n 's/.*slipway.port=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
            D=$(sed -n 's/.*slipway.seconds=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
            echo SLIPWAY-IPERF-START
            /usr/bin/iperf3 -c "$T" -p "$P" -t "$D" >/tmp/iperf.out 2>&1
            echo SLIPWAY-IPERF-EXIT $?
            tail -4 /tmp/iperf.out
            echo SLIPWAY-DONE
            poweroff -f
            """;

    record Run(String peer, double leaseSeconds, double guestLeaseUptime, double gbits) {}

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        GuestImage.Kernel kernel = GuestImage.installedKernel().orElseThrow(() -> new IllegalStateException(
                "needs a kernel: " + GuestImage.PACKAGES));
        List<Run> results = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            results.add(slipway(kernel, seconds));
            results.add(slirp(kernel, seconds));
        }
        System.out.println();
        System.out.printf("%-22s %-28s %-28s %-28s%n", "peer (" + runs + " runs, TCG)", "start->lease s (min/med/max)",
                "guest uptime at lease s", "guest->host Gbit/s");
        for (String peer : List.of("slipway", "qemu-user (slirp)")) {
            List<Run> mine = results.stream().filter(r -> r.peer().equals(peer)).toList();
            System.out.printf("%-22s %-28s %-28s %-28s%n", peer,
                    stats(mine.stream().map(Run::leaseSeconds).toList()),
                    stats(mine.stream().map(Run::guestLeaseUptime).toList()),
                    stats(mine.stream().map(Run::gbits).toList()));
        }
        double slipwayGbit = median(results.stream().filter(r -> r.peer().equals("slipway")).map(Run::gbits).toList());
        double slirpGbit = median(results.stream().filter(r -> !r.peer().equals("slipway")).map(Run::gbits).toList());
        System.out.printf("ratio slipway/slirp throughput (median): %.2f%n", slipwayGbit / slirpGbit);
    }

    static Run slipway(GuestImage.Kernel kernel, int seconds) throws Exception {
        int port = freePort();
        Process server = iperfServer(port);
        try (RealGuest guest = new RealGuest(kernel, INIT, image -> binary(image), 256,
                "slipway.target=192.168.65.254 slipway.port=" + port + " slipway.seconds=" + seconds)) {
            long t0 = System.nanoTime();
            guest.boot();
            double lease = -1;
            long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline) {
                @SuppressWarnings("unchecked")
                List<Object> leases = (List<Object>) guest.stack().status().get("leases");
                if (!leases.isEmpty()) {
                    lease = (System.nanoTime() - t0) / 1e9;
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(5);
            }
            if (!guest.awaitConsole("SLIPWAY-DONE", Duration.ofSeconds(120 + seconds))) {
                throw new IllegalStateException("the guest did not finish: " + guest.consoleText());
            }
            Run run = new Run("slipway", lease, guestUptime(guest.consoleText()), serverGbits(server, guest.consoleText()));
            System.out.println("slipway  " + run);
            return run;
        } finally {
            server.destroyForcibly();
        }
    }

    /** The same guest with QEMU's user-mode network, launched the way the manager launches QEMU. */
    static Run slirp(GuestImage.Kernel kernel, int seconds) throws Exception {
        int port = freePort();
        Process server = iperfServer(port);
        Path dir = TestRoot.create("slirp");
        Process qemu = null;
        try {
            GuestImage image = GuestImage.busybox(kernel, GuestImage.prologue() + INIT);
            binary(image);
            Path initrd = dir.resolve("initrd.cpio");
            try (OutputStream out = Files.newOutputStream(initrd)) {
                image.writeCpio(out);
            }
            Path disk = dir.resolve("disk.img");
            try (var f = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
                f.setLength(64L << 20);
            }
            Path console = dir.resolve("console.log");
            List<String> command = rootCommand("slirp-peer", kernel.image(), initrd,
                    "console=ttyS0 quiet panic=-1 slipway.target=10.0.2.2 slipway.port=" + port + " slipway.seconds=" + seconds,
                    disk, dir.resolve("unused.sock"), console, 256);
            int netdev = command.indexOf("-netdev") + 1;
            command.set(netdev, "user,id=n0");
            long t0 = System.nanoTime();
            qemu = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("qemu.log").toFile()).start();
            double lease = -1;
            long deadline = t0 + TimeUnit.SECONDS.toNanos(120 + seconds);
            String text = "";
            while (System.nanoTime() < deadline) {
                text = Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
                if (lease < 0 && text.contains("SLIPWAY-LEASE")) {
                    lease = (System.nanoTime() - t0) / 1e9;
                }
                if (text.contains("SLIPWAY-DONE") || !qemu.isAlive()) {
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(5);
            }
            if (!text.contains("SLIPWAY-DONE")) {
                throw new IllegalStateException("the slirp guest did not finish: " + text + Files.readString(dir.resolve("qemu.log")));
            }
            Run run = new Run("qemu-user (slirp)", lease, guestUptime(text), serverGbits(server, text));
            System.out.println("slirp    " + run);
            return run;
        } finally {
            if (qemu != null) {
                qemu.destroyForcibly();
                qemu.waitFor(5, TimeUnit.SECONDS);
            }
            server.destroyForcibly();
            TestRoot.delete(dir);
        }
    }

    /**
     * The emulator as the VM manager ran it before it dropped privileges: as this process's user
     * (root, for the helper), opening the disk, the console log and the network socket by name.
     * Kept for the benchmarks' comparison only.
     */
    static List<String> rootCommand(String name, Path kernel, Path initrd, String cmdline, Path disk, Path netSocket,
            Path consoleLog, int memoryMb) {
        boolean kvm = java.nio.file.Files.isWritable(Path.of("/dev/kvm"));
        List<String> c = new ArrayList<>(List.of(GuestImage.EMULATOR, "-name", name, "-machine", "q35",
                "-accel", kvm ? "kvm" : "tcg", "-cpu", kvm ? "host" : "max", "-m", Integer.toString(memoryMb), "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        c.addAll(List.of("-serial", "file:" + consoleLog));
        c.addAll(List.of("-kernel", kernel.toString(), "-initrd", initrd.toString(), "-append", cmdline));
        c.addAll(List.of("-drive", "file=" + QemuBackend.option(disk) + ",format=raw,if=virtio"));
        c.addAll(List.of("-netdev", "stream,id=n0,addr.type=unix,addr.path=" + QemuBackend.option(netSocket)));
        c.addAll(List.of("-device", "virtio-net-pci,netdev=n0,mac=" + QemuBackend.GUEST_MAC + ",romfile="));
        return c;
    }

    static void binary(GuestImage image) {
        try {
            GuestImage.binary(image, Path.of("/usr/bin/iperf3"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static Process iperfServer(int port) throws IOException {
        return new ProcessBuilder("iperf3", "-s", "-1", "-J", "-B", "127.0.0.1", "-p", Integer.toString(port))
                .redirectErrorStream(false).start();
    }

    /** What the host's iperf3 server received, per its JSON summary. */
    static double serverGbits(Process server, String console) throws Exception {
        if (!server.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the iperf3 server did not finish; guest console:\n" + console);
        }
        String json = new String(server.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        JsonObject end = JsonParser.parseString(json).getAsJsonObject().getAsJsonObject("end");
        return end.getAsJsonObject("sum_received").get("bits_per_second").getAsDouble() / 1e9;
    }

    static double guestUptime(String console) {
        Matcher m = Pattern.compile("SLIPWAY-LEASE .* at ([0-9.]+)").matcher(console);
        return m.find() ? Double.parseDouble(m.group(1)) : -1;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String stats(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return String.format("%.2f / %.2f / %.2f", sorted.get(0), median(values), sorted.get(sorted.size() - 1));
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private VmBench() {
    }
}

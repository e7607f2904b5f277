package dev.slipway.helper.vm;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import dev.slipway.testing.GuestImage;

/**
 * bench/vm-start.sh: the time from {@code vm start} to the guest's DHCP lease (seen in Slipway's
 * lease table), with the emulator started the current way (the VM manager: descriptors opened by
 * the helper, posix_spawn, setpriv to an unprivileged account, seccomp sandbox) and the old way
 * (QEMU as this process's user, root for the helper, opening disk, console and socket by name),
 * alternating in the same run. Usage: VmStartBench ROUNDS
 */
public final class VmStartBench {

    static final String INIT = """
            echo SLIPWAY-DONE
            poweroff -f
            """;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        GuestImage.Kernel kernel = GuestImage.installedKernel().orElseThrow(() -> new IllegalStateException(
                "needs a kernel: " + GuestImage.PACKAGES));
        List<Double> unprivileged = new ArrayList<>();
        List<Double> root = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            // alternate which goes first, so neither always meets a warmer page cache
            if (i % 2 == 0) {
                unprivileged.add(unprivileged(kernel));
                root.add(root(kernel));
            } else {
                root.add(root(kernel));
                unprivileged.add(unprivileged(kernel));
            }
            System.out.printf("round %d: unprivileged %.2f s, root %.2f s%n", i + 1, unprivileged.get(i), root.get(i));
        }
        System.out.println();
        System.out.printf("%-44s %s%n", "vm start -> DHCP lease (" + rounds + " rounds)", "min / median / max (s)");
        System.out.printf("%-44s %s%n", "unprivileged QEMU (setpriv, seccomp, fds)", VmBench.stats(unprivileged));
        System.out.printf("%-44s %s%n", "root QEMU (old: paths, no sandbox)", VmBench.stats(root));
        System.out.printf("median ratio unprivileged / root: %.2f%n", VmBench.median(unprivileged) / VmBench.median(root));
    }

    /** Through the VM manager, as vm.create and vm.start do. */
    static double unprivileged(GuestImage.Kernel kernel) throws Exception {
        try (RealGuest guest = new RealGuest(kernel, INIT, image -> { }, 128)) {
            var caller = new dev.slipway.api.helper.HelperCall.Caller(System.getProperty("user.name"),
                    System.getProperty("user.name"));
            guest.manager.create(caller);
            long t0 = System.nanoTime();
            guest.manager.start(new dev.slipway.api.helper.HelperCall.Caller(System.getProperty("user.name"),
                    System.getProperty("user.name")));
            double lease = awaitLease(guest, t0);
            guest.awaitConsole("SLIPWAY-DONE", java.time.Duration.ofSeconds(60));
            return lease;
        }
    }

    /** QEMU started as this process's user with the old command line, on the same guest and network. */
    static double root(GuestImage.Kernel kernel) throws Exception {
        try (RealGuest guest = new RealGuest(kernel, INIT, image -> { }, 128)) {
            Path dir = guest.root;
            Path disk = dir.resolve("root-disk.img");
            try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
                f.setLength(64L << 20);
            }
            List<String> command = VmBench.rootCommand("slipway-vm", kernel.image(), dir.resolve("initrd.cpio"),
                    "console=ttyS0 quiet panic=-1", disk, guest.home.resolve(".slipway/run/vm.sock"),
                    dir.resolve("root-console.log"), 128);
            long t0 = System.nanoTime();
            Process qemu = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("root-qemu.log").toFile()).start();
            try {
                return awaitLease(guest, t0);
            } finally {
                qemu.destroy();
                if (!qemu.waitFor(10, TimeUnit.SECONDS)) {
                    qemu.destroyForcibly();
                    qemu.waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    static double awaitLease(RealGuest guest, long t0) throws Exception {
        long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            @SuppressWarnings("unchecked")
            List<Object> leases = (List<Object>) guest.stack().status().get("leases");
            if (!leases.isEmpty()) {
                return (System.nanoTime() - t0) / 1e9;
            }
            TimeUnit.MILLISECONDS.sleep(5);
        }
        throw new IllegalStateException("no lease within 120 s; console:\n" + guest.consoleText());
    }

    private VmStartBench() {
    }
}

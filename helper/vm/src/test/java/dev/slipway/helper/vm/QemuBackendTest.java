package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import dev.slipway.testing.GuestImage;

/**
 * {@code auto} picks the accelerator by trying it: a stand-in KVM device (a regular file at a test
 * path) and stand-in emulators that die like QEMU on CPUs that reject an MSR, or that answer QMP
 * like a QEMU whose vCPU runs; and the real device and QEMU where there is a /dev/kvm.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class QemuBackendTest {

    static final boolean ROOT = System.getProperty("user.name").equals("root");
    /** As the helper would run the emulator when the tests run as root. */
    static final VmBackend.Account NOBODY = new VmBackend.Account("nobody", 65534, 65534);

    /** Dies as QEMU 7.2 does where KVM refuses MSR 0x10a (seen on CI machines): abort, exit 134. */
    static final String MSR_FAILURE = """
            #!/bin/sh
            echo run >> "$(dirname "$0")/runs"
            echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x20000000e" >&2
            echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3230: kvm_buf_set_msrs: Assertion failed." >&2
            kill -ABRT $$
            """;

    /** Answers QMP like a QEMU whose vCPU runs. */
    static final String KVM_WORKS = """
            #!/bin/sh
            echo run >> "$(dirname "$0")/runs"
            echo '{"QMP": {"version": {}, "capabilities": []}}'
            while read -r line; do
              case "$line" in
                *query-status*) echo '{"return": {"status": "running", "singlestep": false, "running": true}}' ;;
                *quit*) echo '{"return": {}}'; exit 0 ;;
                *) echo '{"return": {}}' ;;
              esac
            done
            """;

    Path root;
    Path device;

    @BeforeEach
    void setUp() throws IOException {
        root = TestRoot.create("backend");
        device = Files.writeString(root.resolve("kvm"), "");
        Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-rw-rw-"));
    }

    @AfterEach
    void tearDown() throws IOException {
        TestRoot.delete(root);
    }

    Path emulator(String script) throws IOException {
        Path p = Files.writeString(root.resolve("qemu"), script);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        // the stand-in appends a line per run; it runs as the emulator's account
        Path runs = Files.writeString(root.resolve("runs"), "");
        Files.setPosixFilePermissions(runs, PosixFilePermissions.fromString("rw-rw-rw-"));
        return p;
    }

    long runs() throws IOException {
        Path runs = root.resolve("runs");
        return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
    }

    @Test
    void autoWithoutADeviceIsTcgAndSaysSo() {
        QemuBackend backend = new QemuBackend("qemu-system-x86_64", root.resolve("no-such-kvm"), ROOT);
        VmBackend.Accelerator a = backend.accelerator("auto", NOBODY);
        assertEquals("tcg", a.name());
        assertEquals("tcg (no " + root.resolve("no-such-kvm") + ")", a.describe());
    }

    @Test
    void aForcedAcceleratorIsNotProbed() throws IOException {
        QemuBackend backend = new QemuBackend(emulator(MSR_FAILURE).toString(), device, ROOT);
        assertEquals(new VmBackend.Accelerator("kvm", "configured"), backend.accelerator("kvm", NOBODY));
        assertEquals(new VmBackend.Accelerator("tcg", "configured"), backend.accelerator("tcg", NOBODY));
        assertEquals(0, runs());
    }

    @Test
    void aDeviceThatOpensButAnEmulatorThatAbortsMeansTcgWithTheEmulatorsReason() throws IOException {
        QemuBackend backend = new QemuBackend(emulator(MSR_FAILURE).toString(), device, ROOT);
        VmBackend.Accelerator a = backend.accelerator("auto", NOBODY);
        assertEquals("tcg", a.name());
        assertEquals("kvm probe failed: exit 134: failed to set MSR 0x10a to 0x20000000e", a.reason());
        backend.accelerator("auto", NOBODY);
        assertEquals(1, runs(), "the verdict is kept while the device stays the same");
    }

    @Test
    void aRunningVcpuMeansKvmAndTheVerdictHoldsUntilTheDeviceChanges() throws Exception {
        QemuBackend backend = new QemuBackend(emulator(KVM_WORKS).toString(), device, ROOT);
        assertEquals(new VmBackend.Accelerator("kvm", "probed"), backend.accelerator("auto", NOBODY));
        assertEquals("kvm", backend.accelerator("auto", NOBODY).name());
        assertEquals(1, runs());
        // a replaced device (here: new permissions, a new ctime) is probed again
        TimeUnit.MILLISECONDS.sleep(20);
        Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.delete(device);
        Files.writeString(device, "");
        Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertEquals("kvm", backend.accelerator("auto", NOBODY).name());
        assertEquals(2, runs());
        backend.kvmFailedAtStart(NOBODY, "exit 134: failed to set MSR 0x10a");
        assertEquals(new VmBackend.Accelerator("tcg", "kvm failed at start: exit 134: failed to set MSR 0x10a"),
                backend.accelerator("auto", NOBODY));
    }

    @Test
    void anEmulatorThatNeverAnswersIsGivenUpOnInBoundedTime() throws IOException {
        QemuBackend backend = new QemuBackend(emulator("#!/bin/sh\nexec sleep 60\n").toString(), device, ROOT);
        long t0 = System.nanoTime();
        VmBackend.Accelerator a = backend.accelerator("auto", NOBODY);
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertEquals("tcg", a.name());
        assertTrue(a.reason().startsWith("kvm probe failed: no running vCPU within"), a.reason());
        assertTrue(seconds <= QemuBackend.PROBE_TIMEOUT.toSeconds() + 3, seconds + " s");
    }

    @Test
    void theRealDeviceAndEmulatorGiveAVerdictEitherWay() {
        Path kvm = Path.of("/dev/kvm");
        Assumptions.assumeTrue(Files.exists(kvm), "needs /dev/kvm (this machine has none; CI machines do)");
        Assumptions.assumeTrue(dev.slipway.testing.Prerequisites.onPath(GuestImage.EMULATOR), "needs " + GuestImage.EMULATOR + ": " + GuestImage.PACKAGES);
        QemuBackend backend = new QemuBackend(GuestImage.EMULATOR, kvm, ROOT);
        VmBackend.Accelerator a = backend.accelerator("auto", NOBODY);
        System.out.println("KVM probe on this machine: " + a.describe());
        assertTrue(a.equals(new VmBackend.Accelerator("kvm", "probed")) || a.name().equals("tcg")
                && a.reason().startsWith("kvm probe failed: "), a.describe());
    }

    @Test
    void theEngineChannelIsAVirtioSerialPortOnTheHelpersDescriptor() {
        QemuBackend backend = new QemuBackend("qemu-system-x86_64", Path.of("/nonexistent/kvm"), false);
        VmBackend.Accelerator tcg = new VmBackend.Accelerator("tcg", "configured");
        java.util.List<String> with = backend.command(new VmBackend.Launch("slipway-vm", Path.of("/k"), Path.of("/i"), "console=ttyS0",
                512, 1, tcg, NOBODY, true));
        String line = String.join(" ", with);
        assertTrue(line.contains("-chardev socket,id=engine,fd=" + VmBackend.ENGINE_FD), line);
        assertTrue(line.contains("-device virtserialport,chardev=engine,name=dev.slipway.engine"), line);
        assertTrue(line.contains("-device virtio-serial-pci"), line);
        java.util.List<String> without = backend.command(new VmBackend.Launch("slipway-vm", Path.of("/k"), Path.of("/i"),
                "console=ttyS0", 512, 1, tcg, NOBODY, false));
        assertTrue(without.stream().noneMatch(w -> w.contains("engine")), String.join(" ", without));
    }
}

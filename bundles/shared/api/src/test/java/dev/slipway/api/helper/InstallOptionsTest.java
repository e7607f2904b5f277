package dev.slipway.api.helper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** The VM's install-time settings: what {@code slipway helper install --setting KEY=VALUE} accepts. */
class InstallOptionsTest {

    private static InstallOptions with(Map<String, String> settings) {
        return new InstallOptions(InstallOptions.Mode.ALL_USERS, Optional.empty(), "slipway-users", InstallOptions.Engine.VM, false,
                Path.of("/opt/slipway"), List.of(), settings);
    }

    private static String refused(String key, String value) {
        return assertThrows(IllegalArgumentException.class, () -> with(Map.of(key, value))).getMessage();
    }

    @Test
    void theVmsKernelInitramfsAccountAndSizeMayBeGivenAtInstall() {
        InstallOptions options = with(Map.of("vm-kernel", "/srv/guest/vmlinuz", "vm-initrd", "/srv/guest/initrd.img",
                "vm-user", "slipway-vm", "vm-memory-mb", "2048", "vm-cpus", "4", "vm-disk-gb", "32"));
        assertEquals(Optional.of("/srv/guest/vmlinuz"), options.setting(HelperSettings.VM_KERNEL));
        String configuration = options.configuration();
        for (String line : List.of("vm-kernel=/srv/guest/vmlinuz", "vm-initrd=/srv/guest/initrd.img", "vm-user=slipway-vm",
                "vm-memory-mb=2048", "vm-cpus=4", "vm-disk-gb=32")) {
            assertTrue(configuration.contains(line + "\n"), configuration);
        }
    }

    @Test
    void kernelAndInitramfsAreAbsoluteNormalPaths() {
        assertTrue(refused("vm-kernel", "vmlinuz").contains("absolute path"));
        assertTrue(refused("vm-initrd", "/srv/guest/../../etc/shadow").contains("normal path"));
        assertTrue(refused("vm-initrd", "/srv//guest/initrd").contains("normal path"));
    }

    @Test
    void sizesAreWholeNumbersInRange() {
        for (String bad : List.of("0", "-1", "1e3", "0x10", " 512", "99999999999", "lots")) {
            assertThrows(IllegalArgumentException.class, () -> with(Map.of("vm-memory-mb", bad)), bad);
        }
        assertTrue(refused("vm-memory-mb", "32").contains("from 64 to"));
        assertTrue(refused("vm-cpus", "0").contains("from 1 to 256"));
        assertTrue(refused("vm-disk-gb", "100000").contains("whole number"));
    }

    @Test
    void theEmulatorsAccountIsAnAccountNameAndNeverRoot() {
        assertTrue(refused("vm-user", "root").contains("never runs as root"));
        assertTrue(refused("vm-user", "a b").contains("not a valid user"));
        assertTrue(refused("vm-user", "../x").contains("not a valid user"));
    }

    @Test
    void otherVmSettingsStayWithTheConfigurationFile() {
        assertTrue(refused("vm-emulator", "/tmp/qemu").contains("not a setting for install time"));
        assertTrue(refused("vm-cmdline", "init=/bin/sh").contains("not a setting for install time"));
    }
}

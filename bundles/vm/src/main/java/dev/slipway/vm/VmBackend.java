package dev.slipway.vm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The OS-specific part of running the VM: which emulator, with which accelerator and arguments. */
interface VmBackend {

    /**
     * Everything one boot needs; every path here was fixed by the helper, none came from a client.
     *
     * @param disk a path that names the disk the helper opened and checked (not a path a client
     *        could swap between the check and the emulator's open)
     */
    record Launch(String name, Path kernel, Path initrd, String cmdline, Path disk, Path netSocket, Path consoleLog,
            Path pidFile, int memoryMb, int cpus, String accelerator) {}

    /** {@code kvm} or {@code tcg}: the configured one, or for {@code auto} KVM when it is usable. */
    String accelerator(String configured);

    /** The emulator's command line for {@code launch}. */
    List<String> command(Launch launch);

    /**
     * A path that opens the very file this process holds open with {@code fileKey} (its
     * device/inode key), so the emulator gets exactly the checked file.
     *
     * @throws IOException when no descriptor of this process holds it
     */
    Path heldFile(Object fileKey) throws IOException;
}

package dev.slipway.helper.vm;

import java.nio.file.Path;
import java.util.List;

/** The OS-specific part of running the VM: which emulator, with which accelerator, as whom, with which arguments. */
interface VmBackend {

    /**
     * The emulator's descriptors, opened by the helper: its network card's listener, disk and serial
     * console. The network card is QEMU's stream netdev in server mode on a listener in a directory of
     * the helper's alone: it takes one connection at a time and listens again when that one ends, and
     * only the helper connects, handing each connection to the runtime ({@code vm.attach-network}).
     */
    int NET_FD = 3;
    int DISK_FD = 4;
    int CONSOLE_FD = 5;
    /** The disk once more, read-only: QEMU's block layer asks its descriptor set for that access mode too. */
    int DISK_READ_FD = 6;
    /**
     * The engine channel's listener, when the runtime serves {@code engine.sock} beside the VM socket:
     * a virtio-serial port named {@value #ENGINE_PORT} in the guest, where a relay carries the engine's
     * Unix socket, so the engine needs no network listener at all. The emulator accepts one connection
     * at a time on it; only the helper can reach it, and hands each connection to the runtime.
     */
    int ENGINE_FD = 7;
    String ENGINE_PORT = "dev.slipway.engine";
    String ENGINE_SOCKET = "engine.sock";
    /**
     * The runtime's socket beside its VM socket that hears of each start: the helper connects before
     * the emulator starts (the runtime must serve it, as the caller) and closes the connection once
     * the emulator runs, and the runtime then asks for the VM's network card ({@code vm.attach-network}).
     */
    String NETWORK_SOCKET = "network.sock";

    /** The unprivileged account the emulator runs as. */
    record Account(String name, int uid, int gid) {}

    /** {@code kvm} or {@code tcg}, and why (shown by {@code vm status}). */
    record Accelerator(String name, String reason) {
        String describe() {
            return reason.isEmpty() ? name : name + " (" + reason + ")";
        }
    }

    /**
     * Everything one boot needs; every path here was fixed by the helper, none came from a client.
     * The disk, console and the network card's listener arrive as descriptors {@link #DISK_FD},
     * {@link #CONSOLE_FD} and {@link #NET_FD}; the emulator's own output goes to descriptors 1 and 2;
     * with {@code engineChannel} the engine channel arrives as {@link #ENGINE_FD}.
     */
    record Launch(String name, Path kernel, Path initrd, String cmdline, int memoryMb, int cpus, Accelerator accelerator,
            Account account, boolean engineChannel) {}

    /**
     * The accelerator to use: the configured one, or for {@code auto} KVM when the emulator, run as
     * {@code account}, actually starts a vCPU with it; otherwise TCG with the reason. Never fails.
     */
    Accelerator accelerator(String configured, Account account);

    /** KVM was chosen by {@code auto} but the emulator died at once with it: later starts use TCG. */
    void kvmFailedAtStart(Account account, String why);

    /** The full command line for {@code launch}: the privilege drop to its account, then the emulator. */
    List<String> command(Launch launch);
}

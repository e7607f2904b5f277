package dev.slipway.platform.linux.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TapDeviceTest {
    private static final int FLAGS = TapDevice.IFF_TAP | TapDevice.IFF_NO_PI | TapDevice.IFF_VNET_HDR;
    private static final int OFFLOADS = TapDevice.TUN_F_CSUM | TapDevice.TUN_F_TSO4;

    @TempDir
    Path dir;

    @Test
    void noTunDeviceSaysToLoadTheModule() {
        ErrnoException e = assertThrows(ErrnoException.class,
                () -> TapDevice.open(dir.resolve("tun").toString(), "slwtest0", FLAGS, OFFLOADS));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().startsWith("cannot open " + dir.resolve("tun") + ": No such file or directory (ENOENT, errno 2)"), e.getMessage());
        assertTrue(e.getMessage().contains("modprobe tun"), e.getMessage());
    }

    @Test
    void somethingElseThanTheCloneDeviceIsNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("tun"), "");
        ErrnoException e = assertThrows(ErrnoException.class, () -> TapDevice.open(file.toString(), "slwtest0", FLAGS, OFFLOADS));
        assertEquals(Errno.ENOTTY, e.errno());
        assertTrue(e.getMessage().contains("is not the tun/tap clone device"), e.getMessage());
    }

    @Test
    void aNameTooLongIsRefusedBeforeAnyCall() {
        IOException e = assertThrows(IOException.class, () -> TapDevice.open("a-name-too-long-x", FLAGS, OFFLOADS));
        assertEquals("a tap device name has 1 to 15 characters: a-name-too-long-x", e.getMessage());
    }

    @Test
    void withoutRootTheErrorSaysWhatIsNeeded() {
        Assumptions.assumeFalse(isRoot(), "root may create tap devices");
        Assumptions.assumeTrue(Files.exists(Path.of(TapDevice.TUN_DEVICE)), "no " + TapDevice.TUN_DEVICE);
        ErrnoException e = assertThrows(ErrnoException.class, () -> TapDevice.open("slwtest0", FLAGS, OFFLOADS));
        assertTrue(e.errno() == Errno.EPERM || e.errno() == Errno.EACCES, e.getMessage());
        assertTrue(e.getMessage().endsWith("tap devices need root or CAP_NET_ADMIN"), e.getMessage());
    }

    @Test
    void asRootATapDeviceIsMadeAndPolled() throws IOException {
        Assumptions.assumeTrue(isRoot(), "needs root (CI runs as root): creates a tap device");
        Assumptions.assumeTrue(Files.exists(Path.of(TapDevice.TUN_DEVICE)), "no " + TapDevice.TUN_DEVICE);
        int fd = TapDevice.open("slwtest" + ProcessHandle.current().pid() % 100_000, FLAGS, OFFLOADS);
        try {
            ByteBuffer in = ByteBuffer.allocateDirect(2048);
            long n = FileDescriptors.read(fd, FileDescriptors.address(in), in.capacity());
            assertEquals(-1, n, "the device is down: nothing to read");
            assertEquals(Errno.EAGAIN, FileDescriptors.lastError(), "non-blocking");
            ByteBuffer pollFd = ByteBuffer.allocateDirect(8).order(ByteOrder.nativeOrder());
            pollFd.putInt(0, fd);
            pollFd.putShort(4, FileDescriptors.POLLIN);
            assertEquals(0, FileDescriptors.poll(FileDescriptors.address(pollFd), 1, 10));
        } finally {
            FileDescriptors.close(fd);
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }
}

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

    /**
     * Without CAP_NET_ADMIN the error says what is needed. As root the open runs in a child JVM whose
     * capabilities lack CAP_NET_ADMIN (setpriv), so the case runs on CI's root machines too.
     */
    @Test
    void withoutNetAdminTheErrorSaysWhatIsNeeded() throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of(TapDevice.TUN_DEVICE)), "no " + TapDevice.TUN_DEVICE);
        if (!isRoot()) {
            assertRefusedForWantOfNetAdmin(assertThrows(ErrnoException.class, () -> TapDevice.open("slwtest0", FLAGS, OFFLOADS)));
            return;
        }
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv: apt-get install -y util-linux");
        Path jvm = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder("setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--",
                jvm.toString(), "-cp", System.getProperty("java.class.path"), OpenTapWithoutNetAdmin.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        assertTrue(child.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the child JVM ended");
        assertEquals(0, child.exitValue(), out);
        String[] errnoAndMessage = out.lines().reduce((first, last) -> last).orElse("").split(" ", 2);
        int errno = Integer.parseInt(errnoAndMessage[0]);
        assertTrue(errno == Errno.EPERM || errno == Errno.EACCES, out);
        assertTrue(errnoAndMessage[1].endsWith("tap devices need root or CAP_NET_ADMIN"), out);
    }

    private static void assertRefusedForWantOfNetAdmin(ErrnoException e) {
        assertTrue(e.errno() == Errno.EPERM || e.errno() == Errno.EACCES, e.getMessage());
        assertTrue(e.getMessage().endsWith("tap devices need root or CAP_NET_ADMIN"), e.getMessage());
    }

    /** Opens a tap device and prints the errno and message of the refusal; exit 1 if it was not refused. */
    static final class OpenTapWithoutNetAdmin {
        public static void main(String[] args) {
            try {
                FileDescriptors.close(TapDevice.open("slwtest0", FLAGS, OFFLOADS));
                System.out.println("opened without CAP_NET_ADMIN");
                System.exit(1);
            } catch (ErrnoException e) {
                System.out.println(e.errno() + " " + e.getMessage());
            } catch (IOException e) {
                System.out.println("not an errno: " + e);
                System.exit(1);
            }
        }
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

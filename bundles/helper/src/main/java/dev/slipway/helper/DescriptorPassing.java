package dev.slipway.helper;

import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * Sends a descriptor with SCM_RIGHTS on one of the helper's own connections, through JNA. Linux LP64
 * only (x86_64, aarch64): the msghdr/cmsghdr layouts below are that ABI's; elsewhere it reports the
 * operation unavailable.
 *
 * <p>Java's Unix channels expose no descriptor. The helper JVM is started with
 * {@value #JVM_OPTION} and the descriptor is read through {@code sun.nio.ch.SelChImpl#getFDVal()},
 * a public method of a public JDK interface unchanged since Java 1.4: that keeps the one NIO event
 * loop, where accepting connections through JNA would replace it, and exports a package rather than
 * opening private fields to deep reflection.
 */
final class DescriptorPassing {

    /** The helper JVM's option that lets the helper read a channel's descriptor. */
    static final String JVM_OPTION = "--add-exports java.base/sun.nio.ch=ALL-UNNAMED";

    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_DONTWAIT = 0x40;

    interface C extends Library {
        long sendmsg(int fd, Pointer message, int flags) throws LastErrorException;
    }

    private volatile C c;

    /** Sends one marker byte carrying {@code passed} on {@code channel}; the caller holds the channel open. */
    void send(SocketChannel channel, int passed) throws HelperException {
        int connection = descriptorOf(channel);
        Memory data = new Memory(1);
        data.setByte(0, (byte) 'F');
        Memory iov = new Memory(16);
        iov.setPointer(0, data);
        iov.setLong(8, 1);
        Memory control = new Memory(24); // CMSG_SPACE(sizeof(int))
        control.clear();
        control.setLong(0, 20); // CMSG_LEN(sizeof(int))
        control.setInt(8, SOL_SOCKET);
        control.setInt(12, SCM_RIGHTS);
        control.setInt(16, passed);
        Memory message = new Memory(56);
        message.clear();
        message.setPointer(16, iov);
        message.setLong(24, 1);
        message.setPointer(32, control);
        message.setLong(40, 24);
        long sent;
        try {
            // the connection has no reply pending (one request in flight at a time), so one byte never waits
            sent = libc().sendmsg(connection, message, MSG_NOSIGNAL | MSG_DONTWAIT);
        } catch (LastErrorException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot pass the descriptor to the caller: errno " + e.getErrorCode());
        }
        if (sent != 1) {
            throw new HelperException(HelperErrors.FAILED, "cannot pass the descriptor to the caller: sendmsg sent " + sent + " bytes");
        }
    }

    private C libc() throws HelperException {
        C loaded = c;
        if (loaded == null) {
            String arch = System.getProperty("os.arch");
            if (!System.getProperty("os.name").equals("Linux") || !(arch.equals("amd64") || arch.equals("aarch64"))) {
                throw new HelperException(HelperErrors.UNAVAILABLE, "this helper passes descriptors on Linux x86_64 and aarch64 only");
            }
            loaded = Native.load("c", C.class);
            c = loaded;
        }
        return loaded;
    }

    static int descriptorOf(SocketChannel channel) throws HelperException {
        try {
            for (Class<?> type = channel.getClass(); type != null; type = type.getSuperclass()) {
                for (Class<?> implemented : type.getInterfaces()) {
                    if (implemented.getName().equals("sun.nio.ch.SelChImpl")) {
                        Method getFDVal = implemented.getMethod("getFDVal");
                        return (Integer) getFDVal.invoke(channel);
                    }
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "the helper cannot pass descriptors: its JVM needs the option "
                    + JVM_OPTION + " (" + e + ")");
        }
        throw new HelperException(HelperErrors.UNAVAILABLE, "the helper cannot pass descriptors: "
                + channel.getClass().getName() + " is not a JDK socket channel");
    }
}

package dev.slipway.helper.server;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.platform.linux.natives.Descriptors;

/**
 * Sends a descriptor with SCM_RIGHTS on one of the helper's own connections, through the Linux
 * natives bundle; where that bundle does not resolve (off Linux) it reports the operation unavailable.
 * Failures are caught as {@link IOException}, so that this class loads where the bundle is absent.
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

    /** Sends one marker byte carrying {@code passed} on {@code channel}; the caller holds the channel open. */
    void send(SocketChannel channel, int passed) throws HelperException {
        int connection = descriptorOf(channel);
        try {
            // the connection has no reply pending (one request in flight at a time), so one byte never waits
            Descriptors.send(connection, passed, (byte) 'F');
        } catch (NoClassDefFoundError e) {
            throw new HelperException(HelperErrors.UNAVAILABLE, "this helper passes descriptors on Linux only");
        } catch (IOException e) {
            throw new HelperException(HelperErrors.FAILED, "cannot pass the descriptor to the caller: " + e.getMessage());
        }
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

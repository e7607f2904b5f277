package dev.slipway.helper.vm;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import com.sun.jna.LastErrorException;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * The helper's connection to the caller's Slipway runtime socket ({@code ~/.slipway/run/vm.sock}),
 * handed to the emulator as a descriptor. The directories are opened without following links and
 * checked, the socket is opened as an {@code O_PATH} descriptor (a link is refused, not followed) and
 * the connection goes through that descriptor, so a name swapped after the check is never reached;
 * the peer's uid from {@code SO_PEERCRED} must be the caller's.
 */
final class RuntimeSocket {

    private static final int ECONNREFUSED = 111;

    private final LinuxNative linux;
    private final DescriptorWalk walk;
    private final Runnable afterCheck;

    /** @param afterCheck runs between the socket's check and the connect (tests swap the name there) */
    RuntimeSocket(LinuxNative linux, Runnable afterCheck) {
        this.linux = linux;
        this.walk = new DescriptorWalk(linux);
        this.afterCheck = afterCheck;
    }

    /**
     * A connected descriptor (close-on-exec), served by {@code callerUid}.
     *
     * @param directoryOwners who may own the directories up to the socket
     */
    int connect(Path socket, Set<String> directoryOwners, int callerUid) throws HelperException {
        int dir = walk.directory(socket.getParent(), directoryOwners);
        Optional<DescriptorWalk.Held> entry = Optional.empty();
        try {
            entry = walk.entry(dir, socket.getFileName().toString());
            DescriptorWalk.Held held = entry.orElseThrow(() -> new HelperException(HelperErrors.UNAVAILABLE,
                    "no VM socket at " + socket + "; start Slipway first (slipway up)"));
            if (held.stat().type() != LinuxNative.S_IFSOCK) {
                throw new HelperException(HelperErrors.REFUSED, socket + " is not a socket"
                        + (held.stat().type() == LinuxNative.S_IFLNK ? " but a link; the helper follows none" : ""));
            }
            if (held.stat().uid() != callerUid && held.stat().uid() != 0) {
                throw new HelperException(HelperErrors.REFUSED, socket + " belongs to uid " + held.stat().uid());
            }
            afterCheck.run();
            int fd;
            try {
                fd = linux.connectUnix(held.procPath());
            } catch (LastErrorException e) {
                throw new HelperException(e.getErrorCode() == ECONNREFUSED ? HelperErrors.UNAVAILABLE : HelperErrors.FAILED,
                        "cannot connect to " + socket + " (is Slipway running?): " + e.getMessage());
            }
            int peer;
            try {
                peer = linux.peerUid(fd);
            } catch (LastErrorException e) {
                linux.close(fd);
                throw new HelperException(HelperErrors.FAILED, "cannot read the peer of " + socket + ": " + e.getMessage());
            }
            if (peer != callerUid) {
                linux.close(fd);
                throw new HelperException(HelperErrors.REFUSED, socket + " is served by uid " + peer
                        + ", not by the caller (uid " + callerUid + ")");
            }
            return fd;
        } finally {
            entry.ifPresent(h -> linux.close(h.fd()));
            linux.close(dir);
        }
    }
}

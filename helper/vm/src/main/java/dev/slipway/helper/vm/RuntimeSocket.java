package dev.slipway.helper.vm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.platform.linux.natives.Errno;
import dev.slipway.platform.linux.natives.FileDescriptors;
import dev.slipway.platform.linux.natives.FileStatus;
import dev.slipway.platform.linux.natives.UnixSockets;

/**
 * The helper's connection to a socket of the caller's Slipway runtime (beside
 * {@code ~/.slipway/run/vm.sock}), or to a listener the emulator holds in the helper's directory.
 * The directories are opened without following links and checked, the socket is opened as an
 * {@code O_PATH} descriptor (a link is refused, not followed) and the connection goes through that
 * descriptor, so a name swapped after the check is never reached;
 * the peer's uid from {@code SO_PEERCRED} must be the caller's. Reached only where the Linux natives
 * bundle is there ({@link LinuxOnly}).
 */
final class RuntimeSocket {

    private final DescriptorWalk walk = new DescriptorWalk();
    private final Runnable afterCheck;

    /** @param afterCheck runs between the socket's check and the connect (tests swap the name there) */
    RuntimeSocket(Runnable afterCheck) {
        this.afterCheck = afterCheck;
    }

    /**
     * A connected descriptor (close-on-exec), served by {@code callerUid}.
     *
     * @param directoryOwners who may own the directories up to the socket
     */
    int connect(Path socket, Set<String> directoryOwners, int callerUid) throws HelperException {
        return connect(socket, directoryOwners, callerUid, Set.of(callerUid));
    }

    /**
     * A connected descriptor (close-on-exec) to a socket file of {@code ownerUid} (or root), whose
     * peer is one of {@code peerUids}.
     */
    int connect(Path socket, Set<String> directoryOwners, int ownerUid, Set<Integer> peerUids) throws HelperException {
        int dir = walk.directory(socket.getParent(), directoryOwners);
        Optional<DescriptorWalk.Held> entry = Optional.empty();
        try {
            entry = walk.entry(dir, socket.getFileName().toString());
            DescriptorWalk.Held held = entry.orElseThrow(() -> new HelperException(HelperErrors.UNAVAILABLE,
                    "no socket at " + socket + "; start Slipway first (slipway up)"));
            if (held.stat().type() != FileStatus.S_IFSOCK) {
                throw new HelperException(HelperErrors.REFUSED, socket + " is not a socket"
                        + (held.stat().type() == FileStatus.S_IFLNK ? " but a link; the helper follows none" : ""));
            }
            if (held.stat().uid() != ownerUid && held.stat().uid() != 0) {
                throw new HelperException(HelperErrors.REFUSED, socket + " belongs to uid " + held.stat().uid());
            }
            afterCheck.run();
            int fd;
            try {
                fd = UnixSockets.connectThrough(held.fd());
            } catch (IOException e) {
                throw new HelperException(Errno.of(e) == Errno.ECONNREFUSED ? HelperErrors.UNAVAILABLE : HelperErrors.FAILED,
                        "cannot connect to " + socket + " (is Slipway running?): " + e.getMessage());
            }
            int peer;
            try {
                peer = UnixSockets.peerUid(fd);
            } catch (IOException e) {
                FileDescriptors.closeQuietly(fd);
                throw new HelperException(HelperErrors.FAILED, "cannot read the peer of " + socket + ": " + e.getMessage());
            }
            if (!peerUids.contains(peer)) {
                FileDescriptors.closeQuietly(fd);
                throw new HelperException(HelperErrors.REFUSED, socket + " is served by uid " + peer
                        + ", not by " + (peerUids.equals(Set.of(ownerUid)) ? "the caller (uid " + ownerUid + ")" : "uid " + peerUids));
            }
            return fd;
        } finally {
            entry.ifPresent(h -> FileDescriptors.closeQuietly(h.fd()));
            FileDescriptors.closeQuietly(dir);
        }
    }
}

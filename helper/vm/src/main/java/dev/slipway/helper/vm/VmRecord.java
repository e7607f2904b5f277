package dev.slipway.helper.vm;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Properties;

import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;

/**
 * What the helper knows of the VM, kept in its own state directory: who made it, and the one disk
 * file it created (where, device, inode, size). The helper moves, copies and boots that file and
 * no other: a file in its place, however it got there, does not match.
 *
 * @param owner the member whose {@code vm.create} made the VM
 */
record VmRecord(String owner, Path diskDirectory, long device, long inode, long size) {

    static final String FILE = "vm.record";

    static VmRecord of(String owner, Path diskDirectory, DescriptorFiles.Identity disk) {
        return new VmRecord(owner, diskDirectory, disk.device(), disk.inode(), disk.size());
    }

    /** The same VM, its disk now the file {@code disk} in {@code directory}. */
    VmRecord movedTo(Path directory, DescriptorFiles.Identity disk) {
        return of(owner, directory, disk);
    }

    /**
     * Refuses, with what differs, any file that is not the recorded disk as the helper left it:
     * the same inode, one name only, owned by root or the helper's user, of the recorded size.
     */
    void requireTheDisk(DescriptorFiles.Opened file, int helperUid) throws HelperException {
        DescriptorFiles.Identity seen = file.identity;
        String problem = !seen.sameFile(device, inode) ? "another file was put in its place"
                // an inode number is reused once a file is deleted: the owner tells a member's new file apart
                : seen.uid() != 0 && seen.uid() != helperUid ? "another file was put in its place (owned by uid " + seen.uid() + ")"
                : seen.links() != 1 ? "it has " + seen.links() + " names, and the helper uses its disk only while it has one"
                : seen.size() != size ? "it is " + seen.size() + " bytes, not the " + size + " the helper recorded"
                : null;
        if (problem != null) {
            throw new HelperException(HelperErrors.REFUSED, file.where + " is not the disk the helper created: " + problem
                    + "; the helper moves and boots only its own disk");
        }
    }

    String serialize() {
        Properties p = new Properties();
        p.setProperty("owner", owner);
        p.setProperty("disk-directory", diskDirectory.toString());
        p.setProperty("disk-device", Long.toString(device));
        p.setProperty("disk-inode", Long.toString(inode));
        p.setProperty("disk-size", Long.toString(size));
        StringWriter out = new StringWriter();
        try {
            p.store(out, "the VM the Slipway helper made; written by the helper only");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    static VmRecord parse(String text) throws HelperException {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
            Path dir = Path.of(p.getProperty("disk-directory", ""));
            if (!dir.isAbsolute() || p.getProperty("owner", "").isEmpty()) {
                throw new IllegalArgumentException("no owner or no absolute disk directory");
            }
            return new VmRecord(p.getProperty("owner"), dir, Long.parseLong(p.getProperty("disk-device")),
                    Long.parseLong(p.getProperty("disk-inode")), Long.parseLong(p.getProperty("disk-size")));
        } catch (IOException | RuntimeException e) {
            throw new HelperException(HelperErrors.FAILED, "the VM's record (" + FILE + ") cannot be read: " + e.getMessage());
        }
    }
}

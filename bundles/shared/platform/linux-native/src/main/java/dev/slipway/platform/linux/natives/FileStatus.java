package dev.slipway.platform.linux.natives;

/** What an opened descriptor is (the fields of struct stat Slipway checks). */
public record FileStatus(long device, long inode, long size, int links, int uid, int mode) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFDIR = 0040000;

    public boolean regularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }

    public boolean directory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean sameFile(long otherDevice, long otherInode) {
        return device == otherDevice && inode == otherInode;
    }
}

package dev.slipway.platform.linux.natives;

/** What an opened descriptor is (the fields of struct stat Slipway checks). */
public record FileStatus(long device, long inode, long size, int links, int uid, int mode) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFSOCK = 0140000;

    /** The type bits of the mode ({@link #S_IFREG}, {@link #S_IFDIR}, {@link #S_IFLNK}, {@link #S_IFSOCK}, ...). */
    public int type() {
        return mode & S_IFMT;
    }

    public boolean regularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }

    public boolean directory() {
        return (mode & S_IFMT) == S_IFDIR;
    }

    public boolean symbolicLink() {
        return (mode & S_IFMT) == S_IFLNK;
    }

    public boolean socket() {
        return (mode & S_IFMT) == S_IFSOCK;
    }

    public boolean sameFile(long otherDevice, long otherInode) {
        return device == otherDevice && inode == otherInode;
    }
}

package dev.slipway.platform.linux.natives.internal;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;

/**
 * A struct cmsghdr carrying one descriptor (SCM_RIGHTS): CMSG_LEN(sizeof(int)) is the header plus
 * the int, and the structure's size, padded to the alignment of size_t, is CMSG_SPACE(sizeof(int)).
 */
@Structure.FieldOrder({"cmsg_len", "cmsg_level", "cmsg_type", "fd"})
public final class CmsgRights extends Structure {
    public static final int SOL_SOCKET = 1;
    public static final int SCM_RIGHTS = 1;

    public NativeLong cmsg_len = new NativeLong();
    public int cmsg_level;
    public int cmsg_type;
    public int fd = -1;

    /** CMSG_LEN(sizeof(int)): the header and one int. */
    public long dataLength() {
        return fieldOffset("fd") + 4L;
    }

    /** Fills in the control message for {@code passed}. */
    public CmsgRights rights(int passed) {
        cmsg_len.setValue(dataLength());
        cmsg_level = SOL_SOCKET;
        cmsg_type = SCM_RIGHTS;
        fd = passed;
        return this;
    }
}

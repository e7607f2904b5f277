package dev.slipway.platform.linux.natives.internal;

import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/** struct msghdr (size_t is a C long on Linux). */
@Structure.FieldOrder({"msg_name", "msg_namelen", "msg_iov", "msg_iovlen", "msg_control", "msg_controllen", "msg_flags"})
public final class MsgHdr extends Structure {
    public static final int MSG_CTRUNC = 0x8;

    public Pointer msg_name;
    public int msg_namelen;
    public Pointer msg_iov;
    public NativeLong msg_iovlen = new NativeLong();
    public Pointer msg_control;
    public NativeLong msg_controllen = new NativeLong();
    public int msg_flags;

    /** One buffer of data and room for one control message. */
    public MsgHdr(IoVec iov, CmsgRights control) {
        msg_iov = iov.getPointer();
        msg_iovlen.setValue(1);
        msg_control = control.getPointer();
        msg_controllen.setValue(control.size());
    }
}

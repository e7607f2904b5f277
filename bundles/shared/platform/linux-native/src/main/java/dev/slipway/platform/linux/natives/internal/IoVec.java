package dev.slipway.platform.linux.natives.internal;

import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/** struct iovec. */
@Structure.FieldOrder({"iov_base", "iov_len"})
public final class IoVec extends Structure {
    public Pointer iov_base;
    public NativeLong iov_len = new NativeLong();

    public IoVec(Pointer base, long length) {
        iov_base = base;
        iov_len.setValue(length);
    }
}

package dev.slipway.networking.stack.component;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.sql.Timestamp;

import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapDumper;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

import dev.slipway.networking.stack.link.FrameTap;

/** Writes the switch's frames to a pcap file (pcap4j over libpcap), truncated to the snap length. */
final class PcapCapture implements FrameTap, AutoCloseable {
    private final PcapHandle handle;
    private final PcapDumper dumper;
    private final int snaplen;
    private long frames;
    private long failures;

    PcapCapture(Path file, int snaplen) throws IOException {
        this.snaplen = snaplen;
        try {
            handle = Pcaps.openDead(DataLinkType.EN10MB, snaplen);
            dumper = handle.dumpOpen(file.toString());
        } catch (PcapNativeException | NotOpenException | UnsatisfiedLinkError e) {
            throw new IOException("cannot write " + file + " with libpcap (apt-get install -y libpcap0.8): " + e.getMessage(), e);
        }
    }

    @Override
    public void frame(ByteBuffer frame, long nanoTime) {
        int n = Math.min(frame.remaining(), snaplen);
        byte[] copy = new byte[n];
        frame.get(frame.position(), copy);
        try {
            dumper.dumpRaw(copy, new Timestamp(System.currentTimeMillis()));
            frames++;
        } catch (NotOpenException e) {
            failures++;
        }
    }

    long frames() {
        return frames;
    }

    long failures() {
        return failures;
    }

    @Override
    public void close() {
        try {
            dumper.flush();
        } catch (PcapNativeException | NotOpenException e) {
            failures++;
        }
        dumper.close();
        handle.close();
    }
}

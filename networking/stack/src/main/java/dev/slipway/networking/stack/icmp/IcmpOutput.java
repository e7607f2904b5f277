package dev.slipway.networking.stack.icmp;

import java.nio.ByteBuffer;

/** How the relay's ICMP messages reach the guest: the IP layer of each family wraps and sends them. */
public interface IcmpOutput {
    /** Sends the ICMP message at {@code [0, length)} of {@code message}, its checksum field zero, from {@code from} to {@code to}. */
    void icmp4(int from, int to, ByteBuffer message, int length);

    /** Sends the ICMPv6 message at {@code [0, length)} of {@code message}, its checksum field zero (the output fills it in). */
    void icmp6(long fromHi, long fromLo, long toHi, long toLo, ByteBuffer message, int length);
}

package dev.slipway.dns.api;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Answers DNS messages in process, so the network stack serves the gateway's port 53 without a
 * host socket in between. Built-in names are answered before this call returns; forwarded names
 * are answered later, from the DNS server's own thread.
 */
@ProviderType
public interface DnsService {

    /** Receives the wire-format answer; {@code null} means the query is dropped without an answer. */
    @FunctionalInterface
    interface Reply {
        /** The buffer is only valid during the call: copy what you keep. */
        void send(ByteBuffer answer);
    }

    /**
     * @param query  the wire-format query, from its position to its limit (not kept after the call)
     * @param client the asking client, for access control and statistics
     * @param tcp    whether the query came over TCP (no truncation of large answers)
     * @param reply  called exactly once
     */
    void answer(ByteBuffer query, InetSocketAddress client, boolean tcp, Reply reply);

    /**
     * A snapshot of the records answered locally (built-in names, their PTRs and every
     * {@link DnsRecordSource} contribution), exact names fully qualified with a trailing dot.
     * Read-only: for listing what is served, not for answering.
     */
    default List<DnsEntry> localRecords() {
        return List.of();
    }

    /** The zones a {@link DnsRecordSource} is authoritative for, fully qualified with a trailing dot. */
    default List<String> localZones() {
        return List.of();
    }
}

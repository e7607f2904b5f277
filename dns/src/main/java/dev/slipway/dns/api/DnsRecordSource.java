package dev.slipway.dns.api;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard: register this service to have Slipway's DNS server answer names with your records.
 * The records are served as soon as the service is registered and removed when it is unregistered.
 * When the records change, update the registration's service properties (for example
 * {@link #GENERATION}); the server then reads {@link #records()} and {@link #zones()} again.
 *
 * <p>A contributed name answers every query type: types it has no record for get an empty
 * NOERROR answer with an SOA, never NXDOMAIN. Exact names win over regular expressions; among
 * regular expressions the service ranking decides.
 */
@ConsumerType
public interface DnsRecordSource {

    /** Optional service property a source may bump whenever its records change. */
    String GENERATION = "slipway.dns.generation";

    /** The records to serve; called when the service appears or its properties change. */
    List<DnsEntry> records();

    /**
     * Zones this source is authoritative for, such as {@code docker.internal}: a name inside one of
     * them that no record matches is answered NXDOMAIN instead of being forwarded to the host.
     */
    default List<String> zones() {
        return List.of();
    }
}

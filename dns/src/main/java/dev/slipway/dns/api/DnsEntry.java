package dev.slipway.dns.api;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One record contributed through a {@link DnsRecordSource}, in DNS presentation format so that
 * contributors need no DNS library.
 *
 * @param name  a fully qualified name ({@code vm.docker.internal}, trailing dot optional), or, when
 *              {@code regex} is true, a regular expression matched case-insensitively against the
 *              whole queried name without its trailing dot (like gvisor-tap-vsock's zone records)
 * @param regex whether {@code name} is a regular expression
 * @param type  the record type mnemonic: {@code A}, {@code AAAA}, {@code CNAME}, {@code MX},
 *              {@code TXT}, {@code SRV}, {@code PTR}, ...
 * @param ttl   time to live in seconds
 * @param data  the record data as in a zone file: {@code 192.168.65.3}, {@code 10 mail.example.},
 *              {@code "some text"}, {@code 0 5 8080 web.example.}
 */
public record DnsEntry(String name, boolean regex, String type, int ttl, String data) {

    public DnsEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        if (ttl < 0) {
            throw new IllegalArgumentException("negative ttl: " + ttl);
        }
        if (regex) {
            Pattern.compile(name);
        }
    }

    /** An exact-name record with a one-minute TTL. */
    public static DnsEntry of(String name, String type, String data) {
        return new DnsEntry(name, false, type, 60, data);
    }

    /** A regular-expression record with a one-minute TTL. */
    public static DnsEntry matching(String regex, String type, String data) {
        return new DnsEntry(regex, true, type, 60, data);
    }
}

package dev.slipway.addons.registryaccess;

import java.util.List;
import java.util.function.Supplier;

import dev.slipway.dns.api.DnsEntry;
import dev.slipway.dns.api.DnsRecordSource;

/**
 * The DNS side of the policy: the denied registry domains as zones without records, which
 * Slipway's DNS server answers NXDOMAIN instead of forwarding them to the host's resolvers.
 */
public final class DeniedRegistryZones implements DnsRecordSource {
    private final Supplier<RegistryPolicy> policy;

    DeniedRegistryZones(Supplier<RegistryPolicy> policy) {
        this.policy = policy;
    }

    /** For tests outside this package: the zones of the policy signed in {@code envelope}. */
    public static DeniedRegistryZones of(byte[] envelope, String publicKey) throws java.security.GeneralSecurityException {
        RegistryPolicy p = RegistryPolicy.verify(envelope, RegistryPolicy.publicKey(publicKey));
        return new DeniedRegistryZones(() -> p);
    }

    @Override
    public List<DnsEntry> records() {
        return List.of();
    }

    @Override
    public List<String> zones() {
        RegistryPolicy p = policy.get();
        return p == null ? List.of() : p.deniedZones();
    }
}

package dev.slipway.api.platform;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.osgi.annotation.versioning.ConsumerType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The host's DNS resolvers as the operating system currently configures them (Linux
 * {@code /etc/resolv.conf}, macOS {@code scutil --dns}, Windows adapter settings), re-read when
 * that configuration changes, for instance when a VPN connects.
 */
@ProviderType
public interface HostResolvers {

    /**
     * One resolver.
     *
     * @param address the server's address and port
     * @param domains the domains it is responsible for (split DNS, lower case, no trailing dot);
     *                empty for a default resolver that serves every name
     */
    record Resolver(InetSocketAddress address, List<String> domains) {

        public Resolver {
            Objects.requireNonNull(address, "address");
            domains = domains.stream().map(Resolver::normalize).toList();
        }

        public static Resolver of(InetSocketAddress address) {
            return new Resolver(address, List.of());
        }

        public boolean isDefault() {
            return domains.isEmpty();
        }

        private static String normalize(String domain) {
            String lower = domain.toLowerCase(Locale.ROOT);
            return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
        }
    }

    /** The current resolvers, default resolvers first in the system's order of preference. */
    List<Resolver> resolvers();

    /**
     * Whiteboard: register a {@code Listener} service to hear the resolvers: it is called with the
     * current list when the platform's service binds it, then on the platform bundle's own thread
     * with each new list. (A listener needs no reference to {@link HostResolvers}, which would
     * make the two services depend on each other.)
     */
    @ConsumerType
    interface Listener {
        void resolversChanged(List<Resolver> resolvers);
    }
}

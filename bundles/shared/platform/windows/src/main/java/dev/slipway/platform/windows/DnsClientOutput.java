package dev.slipway.platform.windows;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import dev.slipway.api.platform.HostResolvers;

/**
 * Reads the output of {@link WindowsHostResolvers#SCRIPT}: one {@code server|ifIndex|metric|family|addresses}
 * line per connected adapter and address family (from Get-DnsClientServerAddress), one
 * {@code nrpt|namespaces|servers} line per Name Resolution Policy Table rule (the split DNS of
 * VPNs and DirectAccess). Adapters are ordered by interface metric, as Windows asks them.
 */
final class DnsClientOutput {

    private DnsClientOutput() {}

    private record Server(int metric, int order, InetSocketAddress address) {}

    static List<HostResolvers.Resolver> parse(String output) {
        List<Server> servers = new ArrayList<>();
        List<HostResolvers.Resolver> perDomain = new ArrayList<>();
        for (String raw : output.split("\r?\n")) {
            String[] fields = raw.strip().split("\\|", -1);
            if (fields[0].equals("server") && fields.length == 5) {
                int metric = parseInt(fields[2]);
                for (String text : fields[4].split(",")) {
                    InetSocketAddress address = address(text.strip());
                    if (address != null) {
                        servers.add(new Server(metric, servers.size(), address));
                    }
                }
            } else if (fields[0].equals("nrpt") && fields.length == 3) {
                List<String> domains = new ArrayList<>();
                for (String namespace : fields[1].split(",")) {
                    String d = namespace.strip();
                    d = d.startsWith(".") ? d.substring(1) : d;
                    if (!d.isEmpty()) {
                        domains.add(d);
                    }
                }
                if (domains.isEmpty()) {
                    continue;
                }
                for (String text : fields[2].split(",")) {
                    InetSocketAddress address = address(text.strip());
                    if (address != null) {
                        perDomain.add(new HostResolvers.Resolver(address, domains));
                    }
                }
            }
        }
        servers.sort(Comparator.comparingInt(Server::metric).thenComparingInt(Server::order));
        List<HostResolvers.Resolver> resolvers = new ArrayList<>();
        for (Server s : servers) {
            HostResolvers.Resolver r = HostResolvers.Resolver.of(s.address());
            if (!resolvers.contains(r)) {
                resolvers.add(r);
            }
        }
        for (HostResolvers.Resolver r : perDomain) {
            if (!resolvers.contains(r)) {
                resolvers.add(r);
            }
        }
        return List.copyOf(resolvers);
    }

    private static InetSocketAddress address(String text) {
        if (text.isEmpty() || !text.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%[A-Za-z0-9_.-]+)?")) {
            return null;
        }
        // fec0:0:0:ffff::1-3 are the placeholders Windows lists when no IPv6 DNS server is configured
        if (text.toLowerCase(java.util.Locale.ROOT).startsWith("fec0:0:0:ffff::")) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(text), 53);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static int parseInt(String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }
}

package dev.slipway.platform.macos;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import dev.slipway.api.platform.HostResolvers;

/**
 * Reads the output of {@code scutil --dns}: its first section ("DNS configuration") lists the
 * resolvers the system uses, in order; a resolver with a {@code domain} serves only that domain
 * (split DNS, as VPN clients configure it, and the /etc/resolver files). Multicast DNS resolvers
 * ({@code options : mdns}) and the scoped section that follows are left out.
 */
final class ScutilDns {

    private ScutilDns() {}

    private static final class Block {
        final List<String> nameservers = new ArrayList<>();
        String domain;
        int port = 53;
        boolean mdns;
    }

    static List<HostResolvers.Resolver> parse(String output) {
        List<Block> blocks = new ArrayList<>();
        Block current = null;
        for (String raw : output.split("\n")) {
            String line = raw.strip();
            if (line.startsWith("DNS configuration (")) {
                break; // "for scoped queries" and the like: per-interface copies of the same resolvers
            }
            if (line.startsWith("resolver #")) {
                current = new Block();
                blocks.add(current);
                continue;
            }
            int colon = line.indexOf(" : ");
            if (current == null || colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 3).strip();
            if (key.startsWith("nameserver[")) {
                current.nameservers.add(value);
            } else if (key.equals("domain")) {
                current.domain = value;
            } else if (key.equals("port")) {
                current.port = parseInt(value, 53);
            } else if (key.equals("options")) {
                current.mdns |= value.contains("mdns");
            }
        }
        List<HostResolvers.Resolver> defaults = new ArrayList<>();
        List<HostResolvers.Resolver> scoped = new ArrayList<>();
        for (Block b : blocks) {
            if (b.mdns || b.port <= 0 || b.port > 65535) {
                continue;
            }
            for (String ns : b.nameservers) {
                InetSocketAddress address = address(ns, b.port);
                if (address == null) {
                    continue;
                }
                HostResolvers.Resolver r = b.domain == null ? HostResolvers.Resolver.of(address)
                        : new HostResolvers.Resolver(address, List.of(b.domain));
                List<HostResolvers.Resolver> target = b.domain == null ? defaults : scoped;
                if (!target.contains(r)) {
                    target.add(r);
                }
            }
        }
        List<HostResolvers.Resolver> all = new ArrayList<>(defaults);
        all.addAll(scoped);
        return List.copyOf(all);
    }

    private static InetSocketAddress address(String text, int port) {
        if (!text.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%[A-Za-z0-9_.-]+)?")) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(text), port);
        } catch (UnknownHostException e) {
            // an interface scope this machine does not have: the resolver cannot be reached anyway
            return null;
        }
    }

    private static int parseInt(String text, int fallback) {
        try {
            return Integer.parseInt(text.split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}

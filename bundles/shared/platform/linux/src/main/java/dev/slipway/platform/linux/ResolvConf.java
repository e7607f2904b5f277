package dev.slipway.platform.linux;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

import dev.slipway.api.platform.HostResolvers;

/** Reads the {@code nameserver} lines of a resolv.conf(5) file, in order. */
final class ResolvConf {

    private ResolvConf() {}

    static List<HostResolvers.Resolver> parse(String text) {
        List<HostResolvers.Resolver> resolvers = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            int comment = indexOfComment(line);
            if (comment >= 0) {
                line = line.substring(0, comment).strip();
            }
            String[] words = line.split("\\s+");
            if (words.length < 2 || !words[0].equals("nameserver")) {
                continue;
            }
            String address = words[1];
            if (!address.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%[A-Za-z0-9_.-]+)?")) {
                continue;
            }
            try {
                InetSocketAddress server = new InetSocketAddress(InetAddress.getByName(address), 53);
                HostResolvers.Resolver resolver = HostResolvers.Resolver.of(server);
                if (!resolvers.contains(resolver)) {
                    resolvers.add(resolver);
                }
            } catch (UnknownHostException e) {
                // a malformed literal (or an unknown IPv6 scope): resolv.conf readers skip such lines too
            }
        }
        return List.copyOf(resolvers);
    }

    private static int indexOfComment(String line) {
        int hash = line.indexOf('#');
        int semicolon = line.indexOf(';');
        if (hash < 0) {
            return semicolon;
        }
        return semicolon < 0 ? hash : Math.min(hash, semicolon);
    }
}

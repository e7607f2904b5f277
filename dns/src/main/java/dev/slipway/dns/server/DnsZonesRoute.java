package dev.slipway.dns.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.ControlRoute;
import dev.slipway.dns.api.DnsEntry;
import dev.slipway.dns.api.DnsService;

/**
 * gvisor-tap-vsock's {@code GET /services/dns/all}: the zones served, as its encoder writes its zone list:
 * {@code [{"Name":"docker.internal.","Records":[{"Name":"gateway","IP":"192.168.65.1"}],"DefaultIP":""}]}.
 *
 * <p>Its model only knows IPv4 address records, so only the A records are listed: an exact name
 * {@code gateway.docker.internal.} becomes record {@code gateway} of zone {@code docker.internal.}; a
 * regular-expression record becomes a record with {@code "Regexp"} in the zone {@code ""}, whose relative
 * names are the whole names, which is what Slipway matches the expression against. Zones a source is
 * authoritative for are listed even without records ({@code "Records":null}, as Go writes an empty slice
 * it never filled). {@code DefaultIP} is always empty: such zones answer NXDOMAIN, never a default address.
 * Zones are sorted by name, their records by name then address.
 */
@Component(property = ControlRoute.PATH + "=/services/dns/all")
public final class DnsZonesRoute implements ControlRoute {

    private record ZoneRecord(String name, String ip, String regexp) {}

    private final DnsService dns;

    @Activate
    public DnsZonesRoute(@Reference DnsService dns) {
        this.dns = dns;
    }

    @Override
    public Response handle(Request request) {
        return Response.plainText(200, json(dns.localRecords(), dns.localZones()));
    }

    static String json(List<DnsEntry> records, List<String> zones) {
        Map<String, List<ZoneRecord>> byZone = new TreeMap<>();
        for (String zone : zones) {
            byZone.computeIfAbsent(absolute(zone), z -> new ArrayList<>());
        }
        for (DnsEntry e : records) {
            if (!e.type().equalsIgnoreCase("A")) {
                continue;
            }
            if (e.regex()) {
                byZone.computeIfAbsent("", z -> new ArrayList<>()).add(new ZoneRecord("", e.data(), e.name()));
                continue;
            }
            String name = absolute(e.name());
            int dot = name.indexOf('.');
            String zone = dot + 1 < name.length() ? name.substring(dot + 1) : ".";
            byZone.computeIfAbsent(zone, z -> new ArrayList<>()).add(new ZoneRecord(name.substring(0, dot), e.data(), null));
        }
        StringBuilder s = new StringBuilder("[");
        byZone.forEach((zone, list) -> {
            if (s.length() > 1) {
                s.append(',');
            }
            s.append("{\"Name\":");
            quote(s, zone);
            s.append(",\"Records\":");
            if (list.isEmpty()) {
                s.append("null");
            } else {
                list.sort((a, b) -> a.name.equals(b.name) ? a.ip.compareTo(b.ip) : a.name.compareTo(b.name));
                s.append('[');
                for (int i = 0; i < list.size(); i++) {
                    ZoneRecord r = list.get(i);
                    s.append(i == 0 ? "{\"Name\":" : ",{\"Name\":");
                    quote(s, r.name);
                    s.append(",\"IP\":");
                    quote(s, r.ip);
                    if (r.regexp != null) {
                        s.append(",\"Regexp\":");
                        quote(s, r.regexp);
                    }
                    s.append('}');
                }
                s.append(']');
            }
            s.append(",\"DefaultIP\":\"\"}");
        });
        return s.append("]\n").toString();
    }

    private static String absolute(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".") ? n : n + ".";
    }

    /** A JSON string as Go's encoder writes it: HTML-sensitive characters and controls escaped as \\u00XX. */
    private static void quote(StringBuilder s, String text) {
        s.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        s.append('"');
    }
}

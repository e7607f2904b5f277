package dev.slipway.dns.server;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.PTRRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.ReverseMap;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import dev.slipway.dns.api.DnsEntry;

/**
 * The names Slipway answers itself: the built-in docker.internal names and whatever
 * {@link dev.slipway.dns.api.DnsRecordSource}s contribute. Immutable; rebuilt whenever the
 * configuration or a contribution changes and swapped in atomically.
 *
 * <p>Every exact name has its answers precomputed as {@link Template}s, one per record type plus an
 * empty NOERROR answer with an SOA for the types it lacks, so answering it only copies bytes.
 */
final class LocalZone {

    /** The answers of one exact name. */
    static final class NameEntry {
        private final int[] types;
        private final Template[] answers;
        private final Template any;
        private final Template noData;

        NameEntry(int[] types, Template[] answers, Template any, Template noData) {
            this.types = types;
            this.answers = answers;
            this.any = any;
            this.noData = noData;
        }

        Template forType(int qtype) {
            if (qtype == Type.ANY) {
                return any;
            }
            for (int i = 0; i < types.length; i++) {
                if (types[i] == qtype) {
                    return answers[i];
                }
            }
            for (int i = 0; i < types.length; i++) {
                if (types[i] == Type.CNAME) {
                    return answers[i];
                }
            }
            return noData;
        }
    }

    /** Records whose owner matches a regular expression; their owner is set to the asked name. */
    record RegexRule(Pattern pattern, Map<Integer, List<Record>> byType) {}

    /** One contribution, in the order of precedence. */
    record Contribution(List<DnsEntry> entries, List<String> zones) {}

    private final Map<NameKey, NameEntry> exact;
    private final List<RegexRule> regexRules;
    private final List<Name> zones;
    private final Name soaHost;
    private final int ttl;
    private final List<String> problems;
    private final List<DnsEntry> served;

    private LocalZone(Map<NameKey, NameEntry> exact, List<RegexRule> regexRules, List<Name> zones, Name soaHost,
            int ttl, List<String> problems, List<DnsEntry> served) {
        this.served = served;
        this.exact = exact;
        this.regexRules = regexRules;
        this.zones = zones;
        this.soaHost = soaHost;
        this.ttl = ttl;
        this.problems = problems;
    }

    /** The precomputed answers of an exact name, or {@code null}. Allocates nothing. */
    NameEntry lookup(WireQuery q, NameKey probe) {
        return exact.get(probe.point(q.name, q.nameLength, q.nameHash, -1));
    }

    /** Whether names that are not exact need the slower checks of {@link #answerOther}. */
    boolean hasOtherRules() {
        return !regexRules.isEmpty() || !zones.isEmpty();
    }

    /**
     * A regular-expression answer, or NXDOMAIN inside a zone a source is authoritative for;
     * {@code null} when the name is not Slipway's.
     */
    Template answerOther(WireQuery q) {
        String text = q.nameString();
        Name name;
        try {
            name = Name.fromString(text, Name.root);
        } catch (TextParseException e) {
            return null;
        }
        for (RegexRule rule : regexRules) {
            if (rule.pattern.matcher(text).matches()) {
                Map<Integer, List<Record>> byType = new LinkedHashMap<>();
                rule.byType.forEach((type, records) ->
                        byType.put(type, records.stream().map(r -> r.withName(name)).toList()));
                return entryFor(name, byType, ttl, soaHost).forType(q.qtype);
            }
        }
        for (Name zone : zones) {
            if (name.subdomain(zone)) {
                Message message = message(name, q.qtype);
                message.getHeader().setRcode(Rcode.NXDOMAIN);
                message.addRecord(soa(zone, soaHost, ttl), Section.AUTHORITY);
                return Template.fixed(message);
            }
        }
        return null;
    }

    /** Entries that could not be used, for the log and the status. */
    List<String> problems() {
        return problems;
    }

    /** Every record answered locally, exact names first (as built), then the regular-expression rules. */
    List<DnsEntry> served() {
        return served;
    }

    /** The zones answered NXDOMAIN for names no record matches. */
    List<String> zoneNames() {
        return zones.stream().map(Name::toString).toList();
    }

    /** How many exact names (PTR names included) are answered locally. */
    int size() {
        return exact.size();
    }

    /** Builds the zone from the configuration and the contributions (highest precedence first). */
    static LocalZone build(DnsConfig config, List<Contribution> contributions) {
        List<String> problems = new ArrayList<>();
        int ttl = Math.max(0, config.ttl());
        Map<Name, Map<Integer, List<Record>>> names = new LinkedHashMap<>();
        Name soaHost = null;
        Name hostName = null;
        Name gatewayName = null;
        for (String text : config.gatewayNames()) {
            Name n = builtIn(text, config.gatewayAddress(), ttl, names, problems);
            builtIn(text, config.gatewayAddress6(), ttl, names, problems);
            soaHost = soaHost == null ? n : soaHost;
            gatewayName = gatewayName == null ? n : gatewayName;
        }
        for (String text : config.hostNames()) {
            Name n = builtIn(text, config.hostAddress(), ttl, names, problems);
            builtIn(text, config.hostAddress6(), ttl, names, problems);
            hostName = hostName == null ? n : hostName;
        }
        for (String text : config.kubernetesNames()) {
            builtIn(text, config.kubernetesAddress(), ttl, names, problems);
        }
        for (String text : config.vmNames()) {
            builtIn(text, null, ttl, names, problems);
        }
        if (soaHost == null) {
            soaHost = Name.fromConstantString("slipway.internal.");
        }
        addPtr(config.gatewayAddress(), gatewayName, ttl, names, problems);
        addPtr(config.hostAddress(), hostName, ttl, names, problems);
        addPtr(config.gatewayAddress6(), gatewayName, ttl, names, problems);
        addPtr(config.hostAddress6(), hostName, ttl, names, problems);

        List<RegexRule> regexRules = new ArrayList<>();
        List<Name> zones = new ArrayList<>();
        // the lowest precedence first, so that higher ones replace its records of the same type
        Map<Name, Map<Integer, List<Record>>> contributed = new LinkedHashMap<>();
        for (int i = contributions.size() - 1; i >= 0; i--) {
            Map<Name, Map<Integer, List<Record>>> mine = new LinkedHashMap<>();
            for (DnsEntry entry : contributions.get(i).entries()) {
                if (entry.regex()) {
                    continue;
                }
                try {
                    Name owner = Name.fromString(entry.name(), Name.root);
                    Record record = record(owner, entry);
                    mine.computeIfAbsent(owner, k -> new LinkedHashMap<>())
                            .computeIfAbsent(record.getType(), k -> new ArrayList<>()).add(record);
                } catch (Exception e) {
                    problems.add(entry + ": " + e.getMessage());
                }
            }
            mine.forEach((owner, byType) -> contributed.computeIfAbsent(owner, k -> new LinkedHashMap<>()).putAll(byType));
        }
        for (Contribution contribution : contributions) {
            Map<Pattern, Map<Integer, List<Record>>> rules = new LinkedHashMap<>();
            for (DnsEntry entry : contribution.entries()) {
                if (!entry.regex()) {
                    continue;
                }
                try {
                    Record record = record(Name.root, entry);
                    Pattern pattern = Pattern.compile(entry.name(), Pattern.CASE_INSENSITIVE);
                    Pattern same = rules.keySet().stream().filter(p -> p.pattern().equals(entry.name())).findFirst().orElse(pattern);
                    rules.computeIfAbsent(same, k -> new LinkedHashMap<>())
                            .computeIfAbsent(record.getType(), k -> new ArrayList<>()).add(record);
                } catch (Exception e) {
                    problems.add(entry + ": " + e.getMessage());
                }
            }
            rules.forEach((pattern, byType) -> regexRules.add(new RegexRule(pattern, byType)));
            for (String zone : contribution.zones()) {
                try {
                    zones.add(Name.fromString(zone, Name.root));
                } catch (TextParseException e) {
                    problems.add("zone " + zone + ": " + e.getMessage());
                }
            }
        }
        Map<Name, List<Record>> generatedPtrs = new LinkedHashMap<>();
        contributed.forEach((owner, byType) -> {
            names.computeIfAbsent(owner, k -> new LinkedHashMap<>()).putAll(byType);
            for (int type : new int[] {Type.A, Type.AAAA}) {
                for (Record r : byType.getOrDefault(type, List.of())) {
                    InetAddress address = r instanceof ARecord a ? a.getAddress() : ((AAAARecord) r).getAddress();
                    Name reverse = ReverseMap.fromAddress(address);
                    if (!contributed.containsKey(reverse)) {
                        generatedPtrs.computeIfAbsent(reverse, k -> new ArrayList<>())
                                .add(new PTRRecord(reverse, DClass.IN, r.getTTL(), owner));
                    }
                }
            }
        });
        generatedPtrs.forEach((reverse, ptrs) ->
                names.computeIfAbsent(reverse, k -> new LinkedHashMap<>()).put(Type.PTR, ptrs));

        List<DnsEntry> served = new ArrayList<>();
        names.forEach((owner, byType) -> byType.values().forEach(records -> records.forEach(r ->
                served.add(new DnsEntry(owner.toString(), false, Type.string(r.getType()), (int) r.getTTL(), r.rdataToString())))));
        for (RegexRule rule : regexRules) {
            rule.byType.values().forEach(records -> records.forEach(r ->
                    served.add(new DnsEntry(rule.pattern.pattern(), true, Type.string(r.getType()), (int) r.getTTL(), r.rdataToString()))));
        }
        Map<NameKey, NameEntry> exact = new HashMap<>();
        for (var e : names.entrySet()) {
            Name lower = Name.fromConstantString(e.getKey().toString().toLowerCase(Locale.ROOT));
            byte[] wire = lower.toWire();
            exact.put(NameKey.of(wire, wire.length, NameKey.hashOf(wire, wire.length), -1),
                    entryFor(lower, e.getValue(), ttl, soaHost));
        }
        return new LocalZone(Map.copyOf(exact), List.copyOf(regexRules), List.copyOf(zones), soaHost, ttl,
                List.copyOf(problems), List.copyOf(served));
    }

    private static Record record(Name owner, DnsEntry entry) throws java.io.IOException {
        int type = Type.value(entry.type().toUpperCase(Locale.ROOT));
        if (type < 0) {
            throw new TextParseException("unknown record type " + entry.type());
        }
        return Record.fromString(owner, type, DClass.IN, entry.ttl(), entry.data(), Name.root);
    }

    private static Name builtIn(String text, String address, int ttl, Map<Name, Map<Integer, List<Record>>> names,
            List<String> problems) {
        try {
            Name name = Name.fromString(text.trim(), Name.root);
            Map<Integer, List<Record>> byType = names.computeIfAbsent(name, k -> new LinkedHashMap<>());
            if (address != null && !address.isBlank()) {
                InetAddress ip = InetAddress.getByName(literal(address));
                Record record = ip.getAddress().length == 4 ? new ARecord(name, DClass.IN, ttl, ip)
                        : new AAAARecord(name, DClass.IN, ttl, ip);
                byType.computeIfAbsent(record.getType(), k -> new ArrayList<>()).add(record);
            }
            return name;
        } catch (Exception e) {
            problems.add(text + " -> " + address + ": " + e.getMessage());
            return null;
        }
    }

    private static void addPtr(String address, Name target, int ttl, Map<Name, Map<Integer, List<Record>>> names,
            List<String> problems) {
        if (target == null || address == null || address.isBlank()) {
            return;
        }
        try {
            Name reverse = ReverseMap.fromAddress(InetAddress.getByName(literal(address)));
            names.computeIfAbsent(reverse, k -> new LinkedHashMap<>())
                    .computeIfAbsent(Type.PTR, k -> new ArrayList<>())
                    .add(new PTRRecord(reverse, DClass.IN, ttl, target));
        } catch (Exception e) {
            problems.add("PTR " + address + ": " + e.getMessage());
        }
    }

    /** Accepts only address literals: a configured name must never trigger a lookup. */
    private static String literal(String address) throws java.net.UnknownHostException {
        String a = address.trim();
        if (!a.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            throw new java.net.UnknownHostException("not an IP address: " + a);
        }
        return a;
    }

    private static NameEntry entryFor(Name name, Map<Integer, List<Record>> byType, int ttl, Name soaHost) {
        int[] types = new int[byType.size()];
        Template[] answers = new Template[byType.size()];
        Message any = message(name, Type.ANY);
        int i = 0;
        for (var e : byType.entrySet()) {
            Message m = message(name, e.getKey());
            for (Record r : e.getValue()) {
                m.addRecord(r, Section.ANSWER);
                any.addRecord(r, Section.ANSWER);
            }
            types[i] = e.getKey();
            answers[i++] = Template.fixed(m);
        }
        Message noData = message(name, Type.A);
        noData.addRecord(soa(apexOf(name), soaHost, ttl), Section.AUTHORITY);
        Template noDataTemplate = Template.fixed(noData);
        return new NameEntry(types, answers, byType.isEmpty() ? noDataTemplate : Template.fixed(any), noDataTemplate);
    }

    private static Message message(Name name, int type) {
        Message m = new Message(0);
        m.getHeader().setFlag(Flags.QR);
        m.getHeader().setFlag(Flags.AA);
        m.addRecord(Record.newRecord(name, type, DClass.IN), Section.QUESTION);
        return m;
    }

    /** The zone a built-in name's negative answers speak for: its parent, e.g. docker.internal. */
    private static Name apexOf(Name name) {
        return name.labels() > 3 ? new Name(name, 1) : name;
    }

    private static SOARecord soa(Name apex, Name host, int ttl) {
        Name admin = Name.fromConstantString("hostmaster." + (apex.equals(Name.root) ? "slipway.internal." : apex));
        return new SOARecord(apex, DClass.IN, ttl, host, admin, 1, 3600, 600, 86400, ttl);
    }
}

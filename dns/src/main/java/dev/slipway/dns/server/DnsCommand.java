package dev.slipway.dns.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.dns.api.DnsService;

/** {@code slipway dns query NAME [TYPE]} and {@code slipway dns stats}. */
@Component(service = ControlCommand.class, property = {
        ControlCommand.NAME + "=dns",
        ControlCommand.SUMMARY + "=Ask Slipway's DNS server (dns query NAME [TYPE]) or show its counters (dns stats)"})
public final class DnsCommand implements ControlCommand {

    static final String USAGE = "usage: slipway dns query NAME [TYPE]\n       slipway dns stats\n";
    private static final long WAIT_SECONDS = 10;

    private final DnsService dns;
    private final DnsStats stats;

    @Activate
    public DnsCommand(@Reference DnsService dns, @Reference DnsStats stats) {
        this.dns = dns;
        this.stats = stats;
    }

    @Override
    public CommandResult execute(List<String> args) throws Exception {
        if (args.isEmpty()) {
            return CommandResult.usage(USAGE);
        }
        return switch (args.get(0)) {
            case "query" -> args.size() == 2 || args.size() == 3 ? query(args.get(1), args.size() == 3 ? args.get(2) : "A")
                    : CommandResult.usage(USAGE);
            case "stats" -> args.size() == 1 ? CommandResult.ok(render(stats.status(), "")) : CommandResult.usage(USAGE);
            default -> CommandResult.usage(USAGE);
        };
    }

    private CommandResult query(String nameText, String typeText) throws Exception {
        Name name;
        try {
            name = Name.fromString(nameText, Name.root);
        } catch (TextParseException e) {
            return CommandResult.usage("not a DNS name: " + nameText + "\n");
        }
        int type = Type.value(typeText.toUpperCase(Locale.ROOT));
        if (type < 0) {
            return CommandResult.usage("unknown record type: " + typeText + "\n");
        }
        Message query = Message.newQuery(Record.newRecord(name, type, DClass.IN));
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        dns.answer(ByteBuffer.wrap(query.toWire()), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), true,
                buffer -> {
                    if (buffer == null) {
                        answer.complete(null);
                    } else {
                        byte[] copy = new byte[buffer.remaining()];
                        buffer.get(buffer.position(), copy);
                        answer.complete(copy);
                    }
                });
        byte[] wire;
        try {
            wire = answer.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return CommandResult.failure("no answer within " + WAIT_SECONDS + " s\n");
        }
        if (wire == null) {
            return CommandResult.failure("the query was dropped (see slipway dns stats)\n");
        }
        return CommandResult.ok(new Message(wire).toString() + "\n");
    }

    /** The status map as indented {@code key: value} lines. */
    static String render(Map<String, Object> map, String indent) {
        StringBuilder text = new StringBuilder();
        map.forEach((key, value) -> {
            if (value instanceof Map<?, ?> inner) {
                @SuppressWarnings("unchecked")
                Map<String, Object> nested = (Map<String, Object>) inner;
                text.append(indent).append(key).append(':').append(nested.isEmpty() ? " none\n" : "\n");
                text.append(render(nested, indent + "  "));
            } else {
                text.append(indent).append(key).append(": ").append(value).append('\n');
            }
        });
        return text.toString();
    }
}

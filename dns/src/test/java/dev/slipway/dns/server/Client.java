package dev.slipway.dns.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

import dev.slipway.dns.api.DnsService;

/** Asks a {@link DnsService} in process and waits for the answer. */
final class Client {

    static final InetSocketAddress LOCAL = new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000);

    private Client() {}

    static Message query(String name, int type) throws Exception {
        return Message.newQuery(Record.newRecord(Name.fromString(name, Name.root), type, DClass.IN));
    }

    static Message ask(DnsService dns, String name, int type) throws Exception {
        return ask(dns, query(name, type));
    }

    static Message ask(DnsService dns, Message query) throws Exception {
        byte[] wire = askRaw(dns, query.toWire(), LOCAL, false);
        return wire == null ? null : new Message(wire);
    }

    /** The raw answer, or {@code null} when the query was dropped. */
    static byte[] askRaw(DnsService dns, byte[] query, InetSocketAddress client, boolean tcp) throws Exception {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        dns.answer(ByteBuffer.wrap(query), client, tcp, buffer -> {
            if (answer.isDone()) {
                throw new AssertionError("reply called twice");
            }
            if (buffer == null) {
                answer.complete(null);
            } else {
                byte[] copy = new byte[buffer.remaining()];
                buffer.get(buffer.position(), copy);
                answer.complete(copy);
            }
        });
        return answer.get(10, TimeUnit.SECONDS);
    }
}

package dev.slipway.networking.stack.component;

import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.control.ControlRoute;

/**
 * gvisor-tap-vsock's {@code GET /stats}: every counter it names, in its order, from the stack's own
 * counters where one has the same meaning; the others (SYN cookies, SACK recovery, receive buffer errors…)
 * describe mechanisms this stack does not have and stay 0. Bytes are counted as its switch counts them:
 * sent = towards the guest, received = from the guest.
 */
@Component(property = ControlRoute.PATH + "=/stats")
public final class StatsRoute implements ControlRoute {
    private final StackHost host;

    @Activate
    public StatsRoute(@Reference StackHost host) {
        this.host = host;
    }

    @Override
    public Response handle(Request request) {
        return Response.plainText(200, json(host.stack().status()));
    }

    static String json(Map<String, Object> status) {
        Map<String, Object> traffic = map(status.get("traffic"));
        Map<String, Object> drops = map(status.get("drops"));
        Map<String, Object> tcp = map(status.get("tcp"));
        Map<String, Object> udp = map(status.get("udp"));

        Map<String, Object> ip = new LinkedHashMap<>();
        ip.put("PacketsReceived", 0L);
        ip.put("InvalidDestinationAddressesReceived", n(drops, "not-for-us"));
        ip.put("InvalidSourceAddressesReceived", n(drops, "metadata-refused"));
        ip.put("PacketsDelivered", 0L);
        ip.put("PacketsSent", 0L);
        ip.put("OutgoingPacketErrors", n(drops, "no-guest-mac"));
        ip.put("MalformedPacketsReceived", n(drops, "bad-ip-header") + n(drops, "bad-ip-checksum"));
        ip.put("MalformedFragmentsReceived", n(drops, "fragment-overlap") + n(drops, "fragment-too-large"));

        long established = 0;
        if (tcp.get("byState") instanceof Map<?, ?> byState && byState.get("established") instanceof Number e) {
            established = e.longValue();
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("ActiveConnectionOpenings", n(tcp, "openedToGuest"));
        t.put("PassiveConnectionOpenings", n(tcp, "opened") - n(tcp, "openedToGuest"));
        t.put("CurrentEstablished", established);
        t.put("CurrentConnected", n(tcp, "connections"));
        t.put("EstablishedResets", n(tcp, "resetByGuest") + n(tcp, "resetByHost"));
        t.put("EstablishedClosed", n(tcp, "closed"));
        t.put("EstablishedTimedout", n(tcp, "idleClosed"));
        t.put("ListenOverflowSynDrop", n(drops, "tcp-half-open-limit") + n(drops, "tcp-connection-limit"));
        t.put("ListenOverflowAckDrop", 0L);
        t.put("ListenOverflowSynCookieSent", 0L);
        t.put("ListenOverflowSynCookieRcvd", 0L);
        t.put("ListenOverflowInvalidSynCookieRcvd", 0L);
        t.put("FailedConnectionAttempts", n(tcp, "refused") + n(tcp, "refusedByGuest") + n(tcp, "timedOut"));
        t.put("ValidSegmentsReceived", n(tcp, "segmentsFromGuest"));
        t.put("InvalidSegmentsReceived", n(drops, "bad-tcp-checksum"));
        t.put("SegmentsSent", n(tcp, "segmentsToGuest"));
        t.put("SegmentSendErrors", 0L);
        t.put("ResetsSent", 0L);
        t.put("ResetsReceived", n(tcp, "resetByGuest"));
        t.put("Retransmits", n(tcp, "retransmits"));
        t.put("FastRecovery", 0L);
        t.put("SACKRecovery", 0L);
        t.put("SlowStartRetransmits", 0L);
        t.put("FastRetransmit", 0L);
        t.put("Timeouts", 0L);

        Map<String, Object> u = new LinkedHashMap<>();
        u.put("PacketsReceived", n(udp, "datagramsToHost") + n(udp, "dnsQueries") + n(udp, "repliesFromGuest"));
        u.put("UnknownPortErrors", 0L);
        u.put("ReceiveBufferErrors", 0L);
        u.put("MalformedPacketsReceived", n(drops, "bad-udp-checksum"));
        u.put("PacketsSent", n(udp, "datagramsToGuest"));
        u.put("PacketSendErrors", n(drops, "udp-send-failed"));

        long dropped = 0;
        for (Object v : drops.values()) {
            dropped += v instanceof Number x ? x.longValue() : 0;
        }
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("BytesSent", n(traffic, "toGuestBytes"));
        top.put("BytesReceived", n(traffic, "fromGuestBytes"));
        top.put("UnknownProtocolRcvdPackets", n(drops, "unsupported-protocol"));
        top.put("MalformedRcvdPackets", n(drops, "bad-tcp-checksum") + n(drops, "bad-udp-checksum") + n(drops, "bad-icmp-checksum"));
        top.put("DroppedPackets", dropped);
        top.put("IP", ip);
        top.put("TCP", t);
        top.put("UDP", u);
        StringBuilder s = new StringBuilder();
        write(s, top);
        return s.append('\n').toString();
    }

    private static void write(StringBuilder s, Map<String, Object> m) {
        s.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : m.entrySet()) {
            if (!first) {
                s.append(',');
            }
            first = false;
            s.append('"').append(e.getKey()).append("\":");
            if (e.getValue() instanceof Map<?, ?> inner) {
                @SuppressWarnings("unchecked")
                Map<String, Object> typed = (Map<String, Object>) inner;
                write(s, typed);
            } else {
                s.append(e.getValue());
            }
        }
        s.append('}');
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static long n(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number x ? x.longValue() : 0L;
    }
}

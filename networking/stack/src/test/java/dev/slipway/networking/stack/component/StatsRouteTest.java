package dev.slipway.networking.stack.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.control.ControlRoute;
import dev.slipway.networking.stack.Frames;
import dev.slipway.networking.stack.MemoryTransport;
import dev.slipway.networking.stack.MiniGuest;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class StatsRouteTest {

    @Test
    void countersAreWrittenUnderGvisorTapVsockNamesInItsOrder() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("traffic", Map.of("fromGuestBytes", 1000L, "toGuestBytes", 2000L));
        status.put("drops", Map.of("unsupported-protocol", 1L, "bad-tcp-checksum", 2L, "bad-udp-checksum", 3L,
                "not-for-us", 4L, "bad-ip-header", 5L, "fragment-overlap", 6L, "tcp-half-open-limit", 7L,
                "udp-send-failed", 8L, "no-guest-mac", 9L, "metadata-refused", 10L));
        status.put("tcp", Map.ofEntries(Map.entry("connections", 3), Map.entry("byState", Map.of("established", 2, "syn-sent", 1)),
                Map.entry("opened", 20L), Map.entry("openedToGuest", 5L), Map.entry("refused", 1L),
                Map.entry("refusedByGuest", 2L), Map.entry("timedOut", 3L), Map.entry("resetByGuest", 4L),
                Map.entry("resetByHost", 5L), Map.entry("closed", 11L), Map.entry("idleClosed", 12L),
                Map.entry("retransmits", 13L), Map.entry("segmentsFromGuest", 100L), Map.entry("segmentsToGuest", 200L)));
        status.put("udp", Map.of("datagramsToHost", 30L, "dnsQueries", 4L, "repliesFromGuest", 6L, "datagramsToGuest", 41L));
        assertEquals("{\"BytesSent\":2000,\"BytesReceived\":1000,\"UnknownProtocolRcvdPackets\":1,"
                + "\"MalformedRcvdPackets\":5,\"DroppedPackets\":55,"
                + "\"IP\":{\"PacketsReceived\":0,\"InvalidDestinationAddressesReceived\":4,\"InvalidSourceAddressesReceived\":10,"
                + "\"PacketsDelivered\":0,\"PacketsSent\":0,\"OutgoingPacketErrors\":9,\"MalformedPacketsReceived\":5,"
                + "\"MalformedFragmentsReceived\":6},"
                + "\"TCP\":{\"ActiveConnectionOpenings\":5,\"PassiveConnectionOpenings\":15,\"CurrentEstablished\":2,"
                + "\"CurrentConnected\":3,\"EstablishedResets\":9,\"EstablishedClosed\":11,\"EstablishedTimedout\":12,"
                + "\"ListenOverflowSynDrop\":7,\"ListenOverflowAckDrop\":0,\"ListenOverflowSynCookieSent\":0,"
                + "\"ListenOverflowSynCookieRcvd\":0,\"ListenOverflowInvalidSynCookieRcvd\":0,\"FailedConnectionAttempts\":6,"
                + "\"ValidSegmentsReceived\":100,\"InvalidSegmentsReceived\":2,\"SegmentsSent\":200,\"SegmentSendErrors\":0,"
                + "\"ResetsSent\":0,\"ResetsReceived\":4,\"Retransmits\":13,\"FastRecovery\":0,\"SACKRecovery\":0,"
                + "\"SlowStartRetransmits\":0,\"FastRetransmit\":0,\"Timeouts\":0},"
                + "\"UDP\":{\"PacketsReceived\":40,\"UnknownPortErrors\":0,\"ReceiveBufferErrors\":0,"
                + "\"MalformedPacketsReceived\":3,\"PacketsSent\":41,\"PacketSendErrors\":8}}\n", StatsRoute.json(status));
    }

    @Test
    void aRunningStacksTrafficAppearsAsBytesSentAndReceived() throws Exception {
        NetStack stack = new NetStack(NetConfig.builder().build());
        try {
            MemoryTransport link = new MemoryTransport();
            stack.attach(link);
            MiniGuest guest = MiniGuest.on(link, Frames.GUEST_MAC);
            guest.dhcp();
            ControlRoute.Response r = new StatsRoute(() -> stack).handle(new ControlRoute.Request("GET", Map.of(), new byte[0]));
            assertEquals(200, r.status());
            String json = new String(r.body(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("^\\{\"BytesSent\":(\\d+),\"BytesReceived\":(\\d+),\"UnknownProtocolRcvdPackets\":0,.*"
                    + "\"UDP\":\\{\"PacketsReceived\":\\d+,.*\"PacketSendErrors\":0}}\n$", Pattern.DOTALL).matcher(json);
            assertTrue(m.matches(), json);
            assertTrue(Long.parseLong(m.group(1)) > 0 && Long.parseLong(m.group(2)) > 0, json);
        } finally {
            stack.close();
        }
    }
}

package dev.slipway.dns.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.xbill.DNS.Message;
import org.xbill.DNS.Type;

import dev.slipway.api.handover.HandoverClaim;
import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.handover.HandoverState;

/** The listener's sockets pass from one version to the next: no query sent across the swap is lost. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ListenerHandoverTest {

    private static final String OWNER = "dev.slipway.dns/listener";

    /** The deploy bundle's parking, as far as the listener sees it. */
    static final class Parking implements HandoverParking {
        volatile boolean restartExpected;
        final Map<String, HandoverState> parked = new HashMap<>();
        final List<String> verdicts = new ArrayList<>();

        @Override
        public boolean restartExpected(String symbolicName) {
            return restartExpected && symbolicName.equals("dev.slipway.dns");
        }

        @Override
        public synchronized void deposit(HandoverState state) {
            parked.put(state.owner(), state);
        }

        @Override
        public synchronized HandoverClaim claim(String owner) {
            HandoverState state = parked.remove(owner);
            if (state == null) {
                return null;
            }
            return new HandoverClaim() {
                @Override
                public HandoverState state() {
                    return state;
                }

                @Override
                public void accept(List<String> handedOver, List<String> reset) {
                    verdicts.add("accepted " + handedOver);
                }

                @Override
                public void refuse(String reason) {
                    verdicts.add("refused " + reason);
                    state.reset().run();
                }

                @Override
                public void release(String reason) {
                    verdicts.add("released " + reason);
                }
            };
        }
    }

    private final DnsStats stats = new DnsStats();
    private final Parking parking = new Parking();
    private final List<DnsServer> servers = new ArrayList<>();
    private final List<DnsListener> listeners = new ArrayList<>();

    @AfterEach
    void stop() {
        parking.restartExpected = false;
        listeners.forEach(DnsListener::deactivate);
        servers.forEach(DnsServer::deactivate);
    }

    /** One version of the dns bundle: a server and a listener on {@code listen}. */
    private DnsListener version(String listen) {
        DnsServer server = new DnsServer(stats, Configs.dns());
        servers.add(server);
        DnsListener listener = new DnsListener(stats, Configs.dns(), listen, parking, OWNER);
        listener.setDnsService(server);
        listeners.add(listener);
        return listener;
    }

    @Test
    void queriesSentAcrossTheSwapAreAllAnswered() throws Exception {
        DnsListener old = version("127.0.0.1:0");
        InetSocketAddress address = old.address();
        byte[] query = Client.query("host.docker.internal", Type.A).toWire();
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger sent = new AtomicInteger();
        AtomicBoolean sending = new AtomicBoolean(true);
        try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            client.setSoTimeout(3000);
            Thread receiver = new Thread(() -> {
                byte[] buffer = new byte[512];
                while (answered.get() < sent.get() || sending.get()) {
                    try {
                        client.receive(new DatagramPacket(buffer, buffer.length));
                        answered.incrementAndGet();
                    } catch (SocketTimeoutException e) {
                        return;
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            receiver.start();
            Thread sender = new Thread(() -> {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                while (System.nanoTime() < until) {
                    try {
                        client.send(new DatagramPacket(query, query.length, address));
                        sent.incrementAndGet();
                        Thread.sleep(1);
                    } catch (Exception e) {
                        return;
                    }
                }
                sending.set(false);
            });
            sender.start();
            Thread.sleep(500);
            parking.restartExpected = true;
            old.deactivate();
            listeners.remove(old);
            Thread.sleep(100);
            DnsListener next = version("127.0.0.1:0");
            parking.restartExpected = false;
            assertEquals(address, next.address(), "the new version serves the very same socket");
            sender.join(10_000);
            receiver.join(10_000);
        }
        assertTrue(sent.get() > 500, "sent " + sent.get());
        assertEquals(sent.get(), answered.get(), "every query sent across the swap is answered");
        assertTrue(parking.verdicts.get(0).startsWith("accepted"), parking.verdicts.toString());
    }

    @Test
    void aStateOfAnotherFormatIsRefusedItsSocketsClosedAndTheNewVersionListensAnew() throws Exception {
        DatagramChannel foreign = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        parking.deposit(new HandoverState(OWNER, DnsListener.HANDOVER_FORMAT + 1,
                Map.of("udp", List.of(foreign)), List.of("1 socket"), () -> {
                    try {
                        foreign.close();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
        DnsListener next = version("127.0.0.1:0");
        assertFalse(foreign.isOpen(), "the refused state was reset");
        assertTrue(parking.verdicts.get(0).startsWith("refused"), parking.verdicts.toString());
        assertNotEquals(null, next.address());
        Message answer = new org.xbill.DNS.SimpleResolver(next.address()).send(Client.query("host.docker.internal", Type.A));
        assertEquals(0, answer.getRcode());
    }

    @Test
    void withoutAnUpdateTheSocketsClose() throws Exception {
        DnsListener only = version("127.0.0.1:0");
        InetSocketAddress address = only.address();
        only.deactivate();
        listeners.remove(only);
        assertTrue(parking.parked.isEmpty(), "nothing parked");
        try (DatagramChannel rebind = DatagramChannel.open()) {
            rebind.bind(address);
        }
    }
}

package dev.slipway.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

import dev.slipway.api.control.StatusContributor;
import dev.slipway.networking.api.GuestConnection;
import dev.slipway.networking.api.OutboundRouter;

/**
 * The networking and dns bundles updated in a running framework through deploy/: the state passes
 * to the new versions (the DNS listener keeps its socket and answers across the update, the stack
 * keeps its QEMU socket listener, its links, a guest's TCP connection and UDP flow, and a connection
 * an outbound router intercepted, whose thread in another bundle goes on with the same streams;
 * counted by the stack before and after), and the deploy bundle's status says what it handed over. Then a
 * networking version that takes the flows and fails to activate is rolled back, and the flows go
 * on with the version that runs again.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LiveHandoverIT {

    private static final Path HOME = SlipwayRuntimeOptions.tempDir("slipway-handover-");
    private static final int DNS_PORT = freeUdpPort();

    @Inject
    private BundleContext context;

    /** A loopback port free for UDP and TCP (the listener binds both); JDK only, as this class also loads inside the framework. */
    private static int freeUdpPort() {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                    java.net.ServerSocket tcp = new java.net.ServerSocket(probe.getLocalPort(), 1, InetAddress.getLoopbackAddress())) {
                return probe.getLocalPort();
            } catch (java.io.IOException takenForTcp) {
                // another one
            }
        }
        throw new IllegalStateException("no loopback port free for both UDP and TCP in 50 tries");
    }

    @Configuration
    public Option[] config() {
        return SlipwayRuntimeOptions.runtime(Map.of(
                "felix.fileinstall.dir", HOME.resolve("deploy").toString(),
                "felix.fileinstall.poll", "200",
                "felix.fileinstall.noInitialDelay", "true",
                "felix.fileinstall.bundles.new.start", "false",
                "felix.fileinstall.optionalImportRefreshScope", "none",
                "slipway.netns", "none",
                "slipway.dns-listen", "127.0.0.1:" + DNS_PORT,
                "slipway.vm-socket", HOME.resolve("vm.sock").toString()));
    }

    @Test
    public void dnsAndNetworkingUpdatedWithTheirStateHandedOver() throws Exception {
        // this class is initialised again inside the framework: read what the configuration chose
        String listen = context.getProperty("slipway.dns-listen");
        int dnsPort = Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1));
        Path home = Path.of(context.getProperty("felix.fileinstall.dir")).getParent();
        Files.createDirectories(home.resolve("deploy"));
        // the listener opens while the runtime's components activate: wait until it answers
        assertEquals("answers before", Integer.valueOf(1), Consumers.await(() -> {
            try {
                return answers(dnsPort, 1) == 1 ? 1 : null;
            } catch (Exception e) {
                return null;
            }
        }, 30));
        assertNotNull("the QEMU socket is served", Consumers.await(() -> Files.exists(home.resolve("vm.sock")) ? Boolean.TRUE : null, 30));
        EchoInterceptor interceptor = new EchoInterceptor();
        java.util.Hashtable<String, Object> ranking = new java.util.Hashtable<>(Map.of(org.osgi.framework.Constants.SERVICE_RANKING, 1000));
        org.osgi.framework.ServiceRegistration<?> routerRegistration = context.registerService(OutboundRouter.class.getName(),
                interceptor, ranking);
        try (HostEcho echo = new HostEcho(); StreamGuest guest = new StreamGuest(home.resolve("vm.sock"))) {
            // a guest on the QEMU socket with one TCP connection and one UDP flow to the host, and one the router intercepts
            guest.dhcp();
            StreamGuest.Connection connection = guest.new Connection(GUEST_TCP_PORT, echo.tcpPort());
            assertEquals("before", connection.echo("before"));
            assertNotNull("the stack took the test's router", interceptor.bound.await(30, java.util.concurrent.TimeUnit.SECONDS)
                    ? Boolean.TRUE : null);
            Thread.sleep(200); // the stack sets the router right after it got the service
            StreamGuest.Connection intercepted = guest.new Connection(GUEST_TCP_PORT + 2, INTERCEPTED_PORT);
            assertEquals("i-before", intercepted.echo("i-before"));
            assertEquals("u-before", guest.udpExchange(GUEST_UDP_PORT, echo.udpPort(), "u-before"));
            int hostUdpPort = echo.lastUdpClientPort;
            int[] before = flows();
            assertEquals("the guest's TCP connections, counted by the stack", 2, before[0]);
            assertTrue("the guest's UDP flow, counted by the stack", before[1] >= 1);

            for (String name : List.of("dev.slipway.dns", "dev.slipway.networking.stack")) {
                Path staged = NewerBundle.withVersion(NewerBundle.distJar(name), "0.5.0", Files.createTempFile(home, "staged-", ".jar"));
                Files.move(staged, home.resolve("deploy/" + name + "-0.5.0.jar"));
                Map<String, Object> update = awaitUpdate(name, "0.5.0");
                assertEquals(update.toString(), "updated", update.get("result"));
                assertEquals(update.toString(), "handed over", update.get("state"));
                assertEquals("0.5.0", running(name).getVersion().toString());
                assertEquals(Bundle.ACTIVE, running(name).getState());
            }
            Map<String, Object> dns = awaitUpdate("dev.slipway.dns", "0.5.0");
            assertTrue(dns.toString(), dns.get("handedOver").toString().contains("listener /127.0.0.1:" + dnsPort));
            Map<String, Object> net = awaitUpdate("dev.slipway.networking.stack", "0.5.0");
            List<?> handedOver = (List<?>) net.get("handedOver");
            assertTrue(net.toString(), handedOver.contains("2 TCP connections"));
            assertTrue(net.toString(), handedOver.contains(before[1] + " UDP flows"));
            assertTrue(net.toString(), handedOver.stream().anyMatch(h -> h.toString().startsWith("link ")));
            assertEquals("the same socket answers after both updates", 1, answers(dnsPort, 5));
            assertTrue("the QEMU socket is served by the new version", Files.exists(home.resolve("vm.sock")));
            assertEquals("the same flows after the update", List.of(before[0], before[1]), List.of(flows()[0], flows()[1]));
            assertEquals("after the update", connection.echo("after the update"));
            assertEquals("i-after the update", intercepted.echo("i-after the update"));
            assertEquals("u-after", guest.udpExchange(GUEST_UDP_PORT, echo.udpPort(), "u-after"));
            assertEquals("the same host UDP socket", hostUdpPort, echo.lastUdpClientPort);
            assertEquals("the same host TCP connection", 1, echo.tcpConnections.get());

            // a version that takes the flows and fails to activate: rolled back, the flows come back with it
            String name = "dev.slipway.networking.stack";
            Path failing = NewerBundle.withFailingComponent(NewerBundle.distJar(name), "0.6.0", Files.createTempFile(home, "staged-", ".jar"));
            Files.move(failing, home.resolve("deploy/" + name + "-0.6.0.jar"));
            Map<String, Object> rollback = awaitUpdate(name, "0.6.0");
            assertTrue(rollback.toString(), rollback.get("result").toString().startsWith("rolled back: the new version did not activate: "
                    + DeliberatelyFailing.class.getName()));
            assertEquals(rollback.toString(), "handed over", rollback.get("state"));
            assertTrue(rollback.toString(), ((List<?>) rollback.get("handedOver")).contains("2 TCP connections"));
            assertEquals("0.5.0", running(name).getVersion().toString());
            assertEquals(Bundle.ACTIVE, running(name).getState());
            assertTrue("the failed jar left deploy/", Files.exists(home.resolve("deploy-failed/" + name + "-0.6.0.jar")));
            assertEquals("the same flows after the rollback", List.of(before[0], before[1]), List.of(flows()[0], flows()[1]));
            assertEquals("after the rollback", connection.echo("after the rollback"));
            assertEquals("i-after the rollback", intercepted.echo("i-after the rollback"));
            assertEquals("the router's thread took one connection and still serves it", List.of(1, 0),
                    List.of(interceptor.taken.get(), interceptor.ended.get()));
            assertEquals("u-rolled-back", guest.udpExchange(GUEST_UDP_PORT, echo.udpPort(), "u-rolled-back"));
            assertEquals("the same host UDP socket", hostUdpPort, echo.lastUdpClientPort);
            assertEquals("the same host TCP connection", 1, echo.tcpConnections.get());
            assertEquals(1, answers(dnsPort, 5));
        } finally {
            routerRegistration.unregister();
        }
    }

    private static final int INTERCEPTED_PORT = 4443;

    /**
     * An outbound router in the test's own bundle, which the update leaves alone: it intercepts one
     * port and echoes on a thread of its own, as the transparent proxy serves on its threads.
     */
    private static final class EchoInterceptor implements org.osgi.framework.ServiceFactory<OutboundRouter>, OutboundRouter {
        final java.util.concurrent.CountDownLatch bound = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger ended = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public OutboundRouter getService(Bundle bundle, org.osgi.framework.ServiceRegistration<OutboundRouter> registration) {
            bound.countDown();
            return this;
        }

        @Override
        public void ungetService(Bundle bundle, org.osgi.framework.ServiceRegistration<OutboundRouter> registration,
                OutboundRouter service) {
            // nothing held per bundle
        }

        @Override
        public java.net.InetSocketAddress route(int guestIp, int guestPort, int dstIp, int dstPort) {
            return dstPort == INTERCEPTED_PORT ? INTERCEPT : null;
        }

        @Override
        public void intercept(GuestConnection connection) {
            taken.incrementAndGet();
            Thread t = new Thread(() -> {
                try (connection) {
                    connection.input().transferTo(connection.output());
                } catch (java.io.IOException e) {
                    // reset: counted below
                }
                ended.incrementAndGet();
            }, "handover-it-interceptor");
            t.setDaemon(true);
            t.start();
        }
    }

    private static final int GUEST_TCP_PORT = 41000;
    private static final int GUEST_UDP_PORT = 41001;

    private Bundle running(String name) {
        return Arrays.stream(context.getBundles()).filter(b -> name.equals(b.getSymbolicName())).reduce((a, b) -> {
            throw new AssertionError("two versions of " + name + " installed: " + a.getVersion() + ", " + b.getVersion());
        }).orElseThrow();
    }

    /** The stack's TCP connections and UDP flows, from its {@code net} status. */
    @SuppressWarnings("unchecked")
    private int[] flows() throws Exception {
        for (ServiceReference<StatusContributor> ref : context.getServiceReferences(StatusContributor.class, "(slipway.status.key=net)")) {
            Map<String, Object> status = (Map<String, Object>) context.getService(ref).status();
            context.ungetService(ref);
            Map<String, Object> tcp = (Map<String, Object>) status.get("tcp");
            Map<String, Object> udp = (Map<String, Object>) status.get("udp");
            return new int[] {((Number) tcp.get("connections")).intValue(), ((Number) udp.get("flows")).intValue()};
        }
        throw new AssertionError("no net status");
    }

    /** Echo servers on the host's loopback: TCP (each connection echoes) and UDP (each datagram goes back). */
    private static final class HostEcho implements AutoCloseable {
        final java.net.ServerSocket tcp = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        final java.util.concurrent.atomic.AtomicInteger tcpConnections = new java.util.concurrent.atomic.AtomicInteger();
        volatile int lastUdpClientPort;

        HostEcho() throws java.io.IOException {
            daemon(() -> {
                while (!tcp.isClosed()) {
                    try {
                        java.net.Socket s = tcp.accept();
                        tcpConnections.incrementAndGet();
                        daemon(() -> {
                            try (s) {
                                s.getInputStream().transferTo(s.getOutputStream());
                            } catch (java.io.IOException e) {
                                // the test ended
                            }
                        });
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            daemon(() -> {
                byte[] b = new byte[2048];
                while (!udp.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(b, b.length);
                        udp.receive(p);
                        lastUdpClientPort = p.getPort();
                        udp.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
        }

        private static void daemon(Runnable r) {
            Thread t = new Thread(r, "handover-it-echo");
            t.setDaemon(true);
            t.start();
        }

        int tcpPort() {
            return tcp.getLocalPort();
        }

        int udpPort() {
            return udp.getLocalPort();
        }

        @Override
        public void close() throws java.io.IOException {
            tcp.close();
            udp.close();
        }
    }

    /** Sends a query for host.docker.internal to the --dns-listen socket; 1 when answered within {@code seconds}. */
    private static int answers(int port, int seconds) throws Exception {
        byte[] query = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                4, 'h', 'o', 's', 't', 6, 'd', 'o', 'c', 'k', 'e', 'r', 8, 'i', 'n', 't', 'e', 'r', 'n', 'a', 'l', 0, 0, 1, 0, 1};
        try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            socket.setSoTimeout(seconds * 1000);
            socket.send(new DatagramPacket(query, query.length, InetAddress.getLoopbackAddress(), port));
            byte[] answer = new byte[512];
            socket.receive(new DatagramPacket(answer, answer.length));
            return answer[0] == 0x12 && answer[1] == 0x34 ? 1 : 0;
        }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> awaitUpdate(String name, String to) throws InterruptedException {
        return Consumers.await(() -> {
            try {
                for (ServiceReference<StatusContributor> ref : context.getServiceReferences(StatusContributor.class, "(slipway.status.key=deploy)")) {
                    Map<String, Object> status = (Map<String, Object>) context.getService(ref).status();
                    Map<String, Object> update = ((Map<String, Map<String, Object>>) status.get("updates")).get(name);
                    context.ungetService(ref);
                    if (update != null && to.equals(update.get("to"))) {
                        return update;
                    }
                }
                return null;
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
        }, 60);
    }
}

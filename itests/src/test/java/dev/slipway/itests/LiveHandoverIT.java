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

/**
 * The networking and dns bundles updated in a running framework through deploy/: the state passes
 * to the new versions (the DNS listener keeps its socket and answers across the update, the stack
 * keeps its QEMU socket listener and its links), and the deploy bundle's status counts what it handed over.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LiveHandoverIT {

    private static final Path HOME = SlipwayRuntimeOptions.tempDir("slipway-handover-");
    private static final int DNS_PORT = freeUdpPort();

    @Inject
    private BundleContext context;

    private static int freeUdpPort() {
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
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
        for (String name : List.of("dev.slipway.dns", "dev.slipway.networking.stack")) {
            Path staged = NewerBundle.withVersion(NewerBundle.distJar(name), "0.5.0", Files.createTempFile(home, "staged-", ".jar"));
            Files.move(staged, home.resolve("deploy/" + name + "-0.5.0.jar"));
            Map<String, Object> update = awaitUpdate(name);
            assertEquals(update.toString(), "updated", update.get("result"));
            assertEquals(update.toString(), "handed over", update.get("state"));
            assertEquals(1, Arrays.stream(context.getBundles()).filter(b -> name.equals(b.getSymbolicName())).count());
            Bundle running = Arrays.stream(context.getBundles()).filter(b -> name.equals(b.getSymbolicName())).findFirst().orElseThrow();
            assertEquals("0.5.0", running.getVersion().toString());
            assertEquals(Bundle.ACTIVE, running.getState());
        }
        Map<String, Object> dns = awaitUpdate("dev.slipway.dns");
        assertTrue(dns.toString(), dns.get("handedOver").toString().contains("listener /127.0.0.1:" + dnsPort));
        Map<String, Object> net = awaitUpdate("dev.slipway.networking.stack");
        assertNotNull(net.get("handedOver"));
        assertEquals("the same socket answers after both updates", 1, answers(dnsPort, 5));
        assertTrue("the QEMU socket is served by the new version", Files.exists(home.resolve("vm.sock")));
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
    private Map<String, Object> awaitUpdate(String name) throws InterruptedException {
        return Consumers.await(() -> {
            try {
                for (ServiceReference<StatusContributor> ref : context.getServiceReferences(StatusContributor.class, "(slipway.status.key=deploy)")) {
                    Map<String, Object> status = (Map<String, Object>) context.getService(ref).status();
                    Map<String, Object> update = ((Map<String, Map<String, Object>>) status.get("updates")).get(name);
                    context.ungetService(ref);
                    if (update != null) {
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

package dev.slipway.helper.portsbind;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;

/**
 * A port another program holds is never shared: for UDP a second socket with SO_REUSEADDR would take
 * unicast datagrams meant for the daemon that holds it. The handler runs directly here (the schema,
 * which limits ports to 1–1023, is checked before it), so unprivileged ports do and no root is needed.
 */
class PortsBindInUseTest {

    private final List<Integer> passed = new ArrayList<>();
    private final PortsBindOperation op;

    PortsBindInUseTest() throws Exception {
        op = new PortsBindOperation("");
    }

    private HelperCall call(String protocol, int port) {
        return new HelperCall(1, HelperSchema.PORTS_BIND, Map.of(HelperSchema.PARAM_PROTOCOL, protocol,
                HelperSchema.PARAM_ADDRESS, "127.0.0.1", HelperSchema.PARAM_PORT, Integer.toString(port)),
                new HelperCall.Caller("dev", "slipway-users"), passed::add);
    }

    @Test
    void aUdpPortHeldByAnotherSocketEvenWithReuseAddressIsInUse() throws IOException {
        try (DatagramChannel daemon = DatagramChannel.open()) {
            daemon.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            daemon.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) daemon.getLocalAddress()).getPort();
            HelperException e = assertThrows(HelperException.class, () -> op.handle(call("udp", port)));
            assertEquals(HelperErrors.FAILED, e.code());
            assertTrue(e.getMessage().contains("the port is in use"), e.getMessage());
            assertEquals(List.of(), passed, "no socket was passed");
        }
    }

    @Test
    void aTcpPortWithAListenerIsInUseThoughTcpSocketsReuseAddresses() throws IOException {
        try (ServerSocketChannel daemon = ServerSocketChannel.open()) {
            daemon.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            daemon.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) daemon.getLocalAddress()).getPort();
            HelperException e = assertThrows(HelperException.class, () -> op.handle(call("tcp", port)));
            assertTrue(e.getMessage().contains("the port is in use"), e.getMessage());
            assertEquals(List.of(), passed);
        }
    }

    @Test
    void aFreeUdpPortIsBoundAndPassedOnTheCallersConnection() throws Exception {
        int port;
        try (DatagramChannel probe = DatagramChannel.open()) {
            probe.bind(new InetSocketAddress("127.0.0.1", 0));
            port = ((InetSocketAddress) probe.getLocalAddress()).getPort();
        }
        Map<String, Object> result = op.handle(call("udp", port));
        assertEquals(port, result.get(HelperSchema.PARAM_PORT));
        assertEquals(1, passed.size(), "one socket went to the caller's connection");
    }
}

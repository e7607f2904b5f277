package dev.slipway.networking.stack.component;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.dns.api.DnsService;
import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.api.DatagramReceiver;
import dev.slipway.networking.api.GuestConnector;
import dev.slipway.networking.api.GuestDatagramFlow;
import dev.slipway.networking.api.GuestNetwork;
import dev.slipway.networking.api.OutboundRouter;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;
import dev.slipway.networking.stack.transport.SocketListener;
import dev.slipway.networking.stack.transport.StreamTransport;

/**
 * The guest network: runs the stack with the configured addresses and serves the VM sockets
 * ({@code slipway.vm-socket} for QEMU's stream netdev, {@code slipway.vpnkit-socket} for vpnkit
 * clients). The gateway's port 53 is answered by the DNS service when there is one.
 */
@Component(service = {GuestNetwork.class, GuestConnector.class, StackHost.class}, configurationPid = "dev.slipway.net",
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public final class NetworkService implements GuestNetwork, GuestConnector, StackHost {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkService.class);
    private final NetConfig config;
    private final CidrList refused;
    private final NetStack stack;
    private final List<SocketListener> listeners = new ArrayList<>();

    @Activate
    public NetworkService(BundleContext context, Map<String, Object> properties) throws IOException {
        NetworkSettings settings = new NetworkSettings(properties, context::getProperty);
        config = settings.netConfig();
        refused = config.refusedDestinations();
        stack = new NetStack(config);
        stack.dns(dns);
        DnsService boundDns = dns;
        if (boundDns != null) {
            checkDnsAddresses(boundDns);
        }
        stack.router(router);
        try {
            String vmSocket = settings.get("vmSocket", "vm-socket");
            if (vmSocket != null && !vmSocket.isBlank()) {
                listeners.add(new SocketListener(Path.of(vmSocket), StreamTransport.Framing.QEMU, config.mtu(), stack::attach));
                LOG.info("serving QEMU stream clients on {} (qemu -netdev stream,id=n0,addr.type=unix,addr.path={})", vmSocket, vmSocket);
            }
            String vpnkitSocket = settings.get("vpnkitSocket", "vpnkit-socket");
            if (vpnkitSocket != null && !vpnkitSocket.isBlank()) {
                listeners.add(new SocketListener(Path.of(vpnkitSocket), StreamTransport.Framing.VPNKIT, config.mtu(), stack::attach));
                LOG.info("serving vpnkit clients on {}", vpnkitSocket);
            }
        } catch (IOException | RuntimeException e) {
            deactivate();
            throw e;
        }
        LOG.info("guest network {}/{}: gateway {}, host alias {}, MTU {}, refused destinations {}", Ip4.toString(config.subnet()),
                config.prefixLength(), Ip4.toString(config.gateway()), Ip4.toString(config.hostAlias()), config.mtu(),
                refused.isEmpty() ? "none" : refused);
        LOG.info(config.ipv6().enabled() ? "guest network IPv6 {}: gateway {}, host alias {} (the host's ::1)" : "guest network IPv6: off",
                config.ipv6().prefixText(), config.ipv6().gatewayText(), config.ipv6().hostAliasText());
    }

    private volatile DnsService dns;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindDns(DnsService service) {
        dns = service;
        NetStack s = stack;
        if (s != null) {
            s.dns(service);
            checkDnsAddresses(service);
        }
    }

    /** Says, as an error, where the DNS server's built-in names answer AAAA outside the guest network's IPv6 prefix. */
    private void checkDnsAddresses(DnsService service) {
        for (String problem : DnsAgreement.disagreements(service.localRecords(), config)) {
            LOG.error("guests would get an IPv6 address nobody answers: {}", problem);
        }
    }

    void unbindDns(DnsService service) {
        if (dns == service) {
            dns = null;
            NetStack s = stack;
            if (s != null) {
                s.dns(null);
            }
        }
    }

    private volatile OutboundRouter router;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindRouter(OutboundRouter service) {
        router = service;
        NetStack s = stack;
        if (s != null) {
            s.router(service);
        }
    }

    void unbindRouter(OutboundRouter service) {
        if (router == service) {
            router = null;
            NetStack s = stack;
            if (s != null) {
                s.router(null);
            }
        }
    }

    @Deactivate
    void deactivate() {
        for (SocketListener l : listeners) {
            l.close();
        }
        listeners.clear();
        stack.close();
    }

    @Override
    public NetStack stack() {
        return stack;
    }

    @Override
    public InetAddress gateway() {
        return Ip4.toInet(config.gateway());
    }

    @Override
    public InetAddress hostAlias() {
        return Ip4.toInet(config.hostAlias());
    }

    @Override
    public int mtu() {
        return config.mtu();
    }

    @Override
    public CidrList refusedDestinations() {
        return refused;
    }

    @Override
    public void checkGuestAddress(InetAddress guest) {
        String reason = stack.unknownGuestReason(guest);
        if (reason != null) {
            throw new IllegalArgumentException("unknown guest address: " + reason);
        }
    }

    @Override
    public void connect(java.nio.channels.SocketChannel hostSide, java.net.InetSocketAddress guest) throws IOException {
        checkGuestAddress(guest.getAddress());
        stack.connectToGuest(hostSide, guest);
    }

    @Override
    public GuestDatagramFlow openDatagramFlow(java.net.InetSocketAddress guest, DatagramReceiver replies) throws IOException {
        checkGuestAddress(guest.getAddress());
        return stack.openFlowToGuest(guest, replies);
    }
}

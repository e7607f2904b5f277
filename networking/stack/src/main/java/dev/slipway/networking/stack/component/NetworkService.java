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

import dev.slipway.api.handover.HandoverClaim;
import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.handover.HandoverState;
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
import dev.slipway.networking.stack.transport.LinkHandover;
import dev.slipway.networking.stack.transport.SocketListener;
import dev.slipway.networking.stack.transport.Transport;
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
    private final HandoverParking parking;
    private final String owner;

    /** The layout of the state this version hands over and takes: see {@link #deactivate()}. */
    static final int HANDOVER_FORMAT = 1;

    @Activate
    public NetworkService(BundleContext context, Map<String, Object> properties,
                          @Reference(cardinality = ReferenceCardinality.OPTIONAL) HandoverParking parking) throws IOException {
        this(new NetworkSettings(properties, context::getProperty), parking, context.getBundle().getSymbolicName() + "/stack");
    }

    /** Without a hand-over (tests, tools): the stack starts fresh and closes for good. */
    public NetworkService(BundleContext context, Map<String, Object> properties) throws IOException {
        this(new NetworkSettings(properties, context::getProperty), null, "dev.slipway.networking.stack/stack");
    }

    NetworkService(NetworkSettings settings, HandoverParking parking, String owner) throws IOException {
        this.parking = parking;
        this.owner = owner;
        config = settings.netConfig();
        refused = config.refusedDestinations();
        stack = new NetStack(config);
        stack.dns(dns);
        DnsService boundDns = dns;
        if (boundDns != null) {
            checkDnsAddresses(boundDns);
        }
        stack.router(router);
        HandoverClaim claim = parking == null ? null : parking.claim(owner);
        if (claim != null) {
            // the guest's queries to the gateway arrive as soon as the link is taken over, before the
            // DNS service is bound to this component: they wait for it
            held = new HeldDnsQueries();
            stack.dns(held);
            takeOver(claim);
        }
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

    /**
     * Goes on with the links to the guest and the DHCP leases of the previous version. Its guest
     * connections were reset when it stopped (the guest got RST at once); new ones open here.
     */
    private void takeOver(HandoverClaim claim) {
        HandoverState handed = claim.state();
        if (handed.formatVersion() != HANDOVER_FORMAT) {
            claim.refuse("stack state format " + handed.formatVersion() + ", this version reads " + HANDOVER_FORMAT);
            return;
        }
        List<String> handedOver = new ArrayList<>();
        List<String> reset = new ArrayList<>();
        @SuppressWarnings("unchecked")
        List<String> resetBefore = handed.item("reset", List.class);
        if (resetBefore != null) {
            reset.addAll(resetBefore);
        }
        @SuppressWarnings("unchecked")
        List<Map<?, ?>> links = handed.item("links", List.class);
        for (Map<?, ?> link : links == null ? List.<Map<?, ?>>of() : links) {
            try {
                Transport transport = LinkHandover.adopt(link, config.mtu());
                stack.attach(transport);
                handedOver.add("link " + transport.name());
            } catch (IOException | RuntimeException e) {
                LinkHandover.close(link);
                reset.add("link " + link.get(LinkHandover.KIND) + " (" + e.getMessage() + ")");
            }
        }
        @SuppressWarnings("unchecked")
        List<long[]> leases = handed.item("leases", List.class);
        if (leases != null) {
            stack.restoreLeases(leases);
            handedOver.add(leases.size() + " DHCP leases");
        }
        LOG.info("took over from the previous version: {}{}", String.join(", ", handedOver),
                reset.isEmpty() ? "" : "; reset: " + String.join(", ", reset));
        claim.accept(handedOver, reset);
    }

    private volatile DnsService dns;

    /** Queries to the gateway that wait while the DNS service is replaced; {@code null} when none is being replaced. */
    private HeldDnsQueries held;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    synchronized void bindDns(DnsService service) {
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
        HeldDnsQueries waiting = held;
        held = null;
        if (waiting != null) {
            int n = waiting.replayTo(service);
            if (n > 0) {
                LOG.info("{} DNS queries to the gateway held while the DNS service was replaced: passed on", n);
            }
        }
    }

    /**
     * The DNS service went away: when it is being updated, queries to the gateway are held for the
     * next one; otherwise the gateway answers port unreachable.
     */
    synchronized void unbindDns(DnsService service) {
        if (dns == service) {
            dns = null;
            NetStack s = stack;
            boolean replaced = parking != null && parking.restartExpected(DNS_BUNDLE);
            held = replaced ? new HeldDnsQueries() : null;
            if (s != null) {
                s.dns(held);
            }
        }
    }

    private static final String DNS_BUNDLE = "dev.slipway.dns";

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

    /**
     * With an update under way, the links to the guest (items {@code links}: descriptions from
     * {@link Transport#detach()}) and the DHCP leases ({@code leases}: {@code long[] {mac, ip,
     * grantedEpochMillis}}) are parked for the next version; {@code reset} says what was reset.
     * Either way every guest connection is reset at once (RST to the guest), never left hanging.
     */
    @Deactivate
    void deactivate() {
        for (SocketListener l : listeners) {
            l.close();
        }
        listeners.clear();
        if (parking == null || !parking.restartExpected(owner.substring(0, owner.indexOf('/')))) {
            stack.close();
            return;
        }
        List<long[]> leases = stack.leasesForHandover();
        Map<String, Object> status = stack.status();
        List<String> reset = new ArrayList<>();
        if (status.get("tcp") instanceof Map<?, ?> tcp && tcp.get("connections") instanceof Number n && n.intValue() > 0) {
            reset.add(n + " guest TCP connections (RST to the guest)");
        }
        if (status.get("udp") instanceof Map<?, ?> udp && udp.get("flows") instanceof Number n && n.intValue() > 0) {
            reset.add(n + " UDP flows (new host sockets on the next datagram)");
        }
        List<Map<String, Object>> links = stack.closeForHandover();
        List<String> summary = new ArrayList<>();
        links.forEach(l -> summary.add("link " + l.get(LinkHandover.KIND)));
        summary.add(leases.size() + " DHCP leases");
        parking.deposit(new HandoverState(owner, HANDOVER_FORMAT,
                Map.of("links", List.copyOf(links), "leases", List.copyOf(leases), "reset", List.copyOf(reset)),
                summary, () -> links.forEach(LinkHandover::close)));
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

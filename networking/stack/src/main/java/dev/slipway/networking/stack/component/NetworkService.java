package dev.slipway.networking.stack.component;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.ComponentServiceObjects;
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
import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
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
import dev.slipway.networking.stack.host.HostEndpoints;
import dev.slipway.networking.stack.tcp.TcpHandover;
import dev.slipway.networking.stack.transport.LinkHandover;
import dev.slipway.networking.stack.udp.Udp;
import dev.slipway.networking.stack.transport.SocketListener;
import dev.slipway.networking.stack.transport.Transport;
import dev.slipway.networking.stack.transport.StreamTransport;
import dev.slipway.networking.stack.transport.VmNetworkLink;
import dev.slipway.platform.linux.natives.ReceivedSockets;

/**
 * The guest network: runs the stack with the configured addresses and serves the VM sockets
 * ({@code slipway.vm-socket} for QEMU's stream netdev, {@code slipway.vpnkit-socket} for vpnkit
 * clients). The gateway's port 53 is answered by the DNS service when there is one. Beside the VM
 * socket, {@value #NETWORK_NEWS_SOCKET} hears from the helper of each VM start: the VM the helper
 * runs gets its link from the helper ({@link VmNetworkLink}, {@code vm.attach-network}), again
 * whenever this component starts while the VM runs or the link ends while it runs.
 */
@Component(service = {GuestNetwork.class, GuestConnector.class, StackHost.class}, configurationPid = "dev.slipway.net",
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true)
public final class NetworkService implements GuestNetwork, GuestConnector, StackHost {
    private static final Logger LOG = LoggerFactory.getLogger(NetworkService.class);
    private final NetConfig config;
    private final CidrList refused;
    private final NetStack stack;
    private final List<SocketListener> listeners = new ArrayList<>();
    /** The socket beside the VM socket where the helper tells of a VM start (its {@code VmBackend.NETWORK_SOCKET}). */
    static final String NETWORK_NEWS_SOCKET = "network.sock";
    /** The link of the VM the helper runs; {@code null} without a VM socket. */
    private VmNetworkLink vmLink;
    private Path attachScratch;
    private final HandoverParking parking;
    private final String owner;

    /** The layout of the stack's state this version hands over and takes: see {@link #deactivate()}. */
    static final int HANDOVER_FORMAT = 2;
    /** The layout of the flows' state: {@link TcpHandover#FORMAT} and {@link Udp#handOver}'s, under one number. */
    static final int FLOWS_FORMAT = TcpHandover.FORMAT;
    /** The flows' state items: TCP connections, their reset records (a layout that never changes), UDP flows. */
    static final String TCP = "tcp", TCP_RESETS = "tcpResets", UDP = "udp", ECHO = "echo";
    /** The stack state's item that takes this version's sink for answers to DNS queries the previous version took. */
    static final String LATE_DNS_ANSWERS = "lateDnsAnswers";
    private final String flowsOwner;
    /** Set once the stack went to the next version: binding changes no longer reach it. */
    private volatile boolean handedOver;

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
        this.flowsOwner = owner.substring(0, owner.indexOf('/')) + "/flows";
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
        HandoverClaim flowsClaim = parking == null ? null : parking.claim(flowsOwner);
        if (claim != null) {
            // the guest's queries to the gateway arrive as soon as the link is taken over, before the
            // DNS service is bound to this component: they wait for it
            held = new HeldDnsQueries();
            stack.dns(held);
        }
        // From here on a failure gives back what this version took: deactivate() sees the update
        // still under way and deposits the links and flows as they are now, for the version that
        // runs again when the deploy bundle rolls the update back.
        String vmSocket = settings.get("vmSocket", "vm-socket");
        try {
            // the flows first, so that the frames the links held for this version find their connections
            FlowsTaken flows = flowsClaim == null ? null : takeFlows(flowsClaim);
            if (vmSocket != null && !vmSocket.isBlank()) {
                // before the links are taken over: the VM's network card among them is watched again
                Path news = Path.of(vmSocket).resolveSibling(NETWORK_NEWS_SOCKET);
                attachScratch = Path.of(vmSocket).resolveSibling("vm-link.sock");
                vmLink = new VmNetworkLink(news, stack::attach);
            }
            if (claim != null) {
                takeOver(claim);
            }
            if (flows != null) {
                flows.adoptEchoFlows();
                stack.resumeAdoptedFlows();
                flows.settle(flowsClaim);
            }
            if (vmSocket != null && !vmSocket.isBlank()) {
                listeners.add(new SocketListener(Path.of(vmSocket), StreamTransport.Framing.QEMU, config.mtu(), stack::attach));
                LOG.info("serving QEMU stream clients on {} (qemu -netdev stream,id=n0,addr.type=unix,addr.path={})", vmSocket, vmSocket);
            }
            String vpnkitSocket = settings.get("vpnkitSocket", "vpnkit-socket");
            if (vpnkitSocket != null && !vpnkitSocket.isBlank()) {
                listeners.add(new SocketListener(Path.of(vpnkitSocket), StreamTransport.Framing.VPNKIT, config.mtu(), stack::attach));
                LOG.info("serving vpnkit clients on {}", vpnkitSocket);
            }
        } catch (IOException | RuntimeException | Error e) {
            if (claim != null || flowsClaim != null) {
                LOG.warn("the network did not start ({}): what it took from the previous version is given back", e.toString());
            }
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
     * Goes on with the links to the guest and the DHCP leases of the previous version: each link is
     * detached from it now (it read the link until here) and the frames it held are switched first.
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
        List<?> links = handed.item("links", List.class);
        for (Object handle : links == null ? List.of() : links) {
            Map<?, ?> link = handle instanceof Supplier<?> s && s.get() instanceof Map<?, ?> m ? m : null;
            if (link == null) {
                reset.add("a link the previous version could not detach");
                continue;
            }
            try {
                Transport transport = LinkHandover.adopt(link, config.mtu());
                List<byte[]> heldFrames = LinkHandover.held(link);
                stack.attach(transport, heldFrames);
                if (vmLink != null && transport instanceof StreamTransport stream && transport.name().startsWith(VmNetworkLink.NAME_PREFIX)) {
                    vmLink.adopted(stream);
                }
                handedOver.add("link " + transport.name() + (heldFrames.isEmpty() ? "" : " (" + heldFrames.size() + " frames held during the update)"));
            } catch (IOException | RuntimeException e) {
                LinkHandover.close(link);
                reset.add("link " + link.get(LinkHandover.KIND) + " (" + e.getMessage() + ")");
            }
        }
        @SuppressWarnings("unchecked")
        Consumer<BiConsumer<long[], ByteBuffer>> lateAnswers = handed.item(LATE_DNS_ANSWERS, Consumer.class);
        if (lateAnswers != null) {
            lateAnswers.accept(stack::lateDnsAnswer);
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

    /** What became of the flows a previous version handed over; settled with its claim once the links are attached. */
    /** ICMP echo flows claimed from the previous version and not adopted yet: deposited again if this version fails first. */
    private volatile List<?> pendingEchoFlows = List.of();

    private final class FlowsTaken {
        final List<String> handedOver = new ArrayList<>();
        final List<String> reset = new ArrayList<>();
        /** Set when the state's layout is not this version's: the TCP connections' reset records. */
        List<?> refusedResets;
        String refusal;

        /**
         * Once the links are attached (a reply waiting in a ping socket is relayed at once, so the
         * guest must be reachable): the ICMP echo flows.
         */
        void adoptEchoFlows() {
            List<?> echo = pendingEchoFlows;
            if (refusal != null || echo.isEmpty()) {
                return;
            }
            List<String> failures = new ArrayList<>();
            handedOver.add(stack.adoptEchoFlows(echo, failures) + " ICMP echo flows");
            pendingEchoFlows = List.of();
            if (!failures.isEmpty()) {
                reset.add(failures.size() + " ICMP echo flows this version could not take (" + failures.get(0) + ")");
            }
        }

        void settle(HandoverClaim claim) {
            if (refusal == null) {
                LOG.info("flows taken over from the previous version: {}{}", String.join(", ", handedOver),
                        reset.isEmpty() ? "" : "; reset: " + String.join(", ", reset));
                claim.accept(handedOver, reset);
                return;
            }
            // the links are this version's now: the guest gets its resets at once, then the host sockets are closed
            int n = stack.resetHandedOverFlows(refusedResets == null ? List.of() : refusedResets);
            LOG.warn("flows of the previous version refused ({}): {} guest TCP connections reset", refusal, n);
            claim.refuse(refusal + "; " + n + " guest TCP connections reset");
        }
    }

    /** Takes the TCP connections and UDP flows the previous version handed over (see {@link #deactivate()}). */
    private FlowsTaken takeFlows(HandoverClaim claim) {
        HandoverState handed = claim.state();
        FlowsTaken taken = new FlowsTaken();
        if (handed.formatVersion() != FLOWS_FORMAT) {
            taken.refusal = "flow state format " + handed.formatVersion() + ", this version reads " + FLOWS_FORMAT;
            taken.refusedResets = handed.item(TCP_RESETS, List.class);
            return taken;
        }
        List<?> tcp = handed.item(TCP, List.class);
        List<?> udp = handed.item(UDP, List.class);
        List<String> failures = new ArrayList<>();
        int[] n = stack.adoptFlows(tcp == null ? List.of() : tcp, udp == null ? List.of() : udp, failures);
        taken.handedOver.add(n[0] + " TCP connections");
        taken.handedOver.add(n[1] + " UDP flows");
        List<?> echo = handed.item(ECHO, List.class);
        pendingEchoFlows = echo == null ? List.of() : List.copyOf(echo);
        List<?> resetBefore = handed.item("reset", List.class);
        if (resetBefore != null) {
            resetBefore.forEach(r -> taken.reset.add(String.valueOf(r)));
        }
        if (!failures.isEmpty()) {
            taken.reset.add(failures.size() + " flows this version could not take (" + failures.get(0) + ")");
        }
        return taken;
    }

    private volatile DnsService dns;

    /** Queries to the gateway that wait while the DNS service is replaced; {@code null} when none is being replaced. */
    private HeldDnsQueries held;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    synchronized void bindDns(DnsService service) {
        dns = service;
        NetStack s = stack;
        if (s != null && !handedOver) {
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
            if (handedOver) {
                return; // the handed-over stack answers DNS to the gateway until the next version takes its links
            }
            boolean replaced = parking != null && parking.restartExpected(DNS_BUNDLE);
            held = replaced ? new HeldDnsQueries() : null;
            if (s != null) {
                s.dns(held);
            }
        }
    }

    private static final String DNS_BUNDLE = "dev.slipway.dns";

    private volatile OutboundRouter router;
    private final Object routerLock = new Object();
    /** The router bound last, and the one {@link #router} came from; guarded by {@link #routerLock}. */
    private ComponentServiceObjects<OutboundRouter> routerBound, routerSource;
    private volatile HelperClient helper;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindHelper(HelperClient client) {
        helper = client;
        VmNetworkLink l = vmLink;
        if (l != null && !handedOver) {
            l.attacher(this::attachVmNetwork);
        }
    }

    void unbindHelper(HelperClient client) {
        if (helper == client) {
            helper = null;
            VmNetworkLink l = vmLink;
            if (l != null) {
                l.attacher(null);
            }
        }
    }

    /** A new connection to the running VM's network card, from the helper; empty when no VM of this user runs. */
    private Optional<SocketChannel> attachVmNetwork() throws IOException {
        HelperClient h = helper;
        if (h == null) {
            throw new IOException("no helper to ask for the VM's network card");
        }
        HelperClient.DescriptorReply reply;
        try {
            reply = h.callForDescriptor(HelperSchema.VM_ATTACH_NETWORK, Map.of(HelperSchema.PARAM_NAME, HelperSchema.VM_NAME));
        } catch (HelperException e) {
            if (HelperErrors.UNAVAILABLE.equals(e.code()) || HelperErrors.REFUSED.equals(e.code())) {
                LOG.info("no VM network card to attach: {}", e.getMessage());
                return Optional.empty();
            }
            throw new IOException("the helper did not attach the VM's network card: " + e.getMessage(), e);
        }
        return Optional.of(ReceivedSockets.unix(reply.descriptor(), attachScratch));
    }

    /**
     * The router (the transparent proxy) needs this component's service to be made, and this
     * component binds the router while SCR activates it: getting the router on the binding thread
     * would make the proxy inside this activation, a cycle SCR breaks by failing the proxy for good
     * (on one thread), or by a lock timeout on both (when another thread makes the proxy meanwhile).
     * So the router is got on a thread of its own, which waits for this activation to finish.
     */
    @Reference(service = OutboundRouter.class, cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindRouter(ComponentServiceObjects<OutboundRouter> objects) {
        synchronized (routerLock) {
            routerBound = objects;
        }
        Thread t = new Thread(() -> useRouter(objects), "slipway-router-bind");
        t.setDaemon(true);
        t.start();
    }

    private void useRouter(ComponentServiceObjects<OutboundRouter> objects) {
        OutboundRouter service;
        try {
            service = objects.getService();
        } catch (IllegalStateException unboundMeanwhile) {
            return;
        }
        if (service == null) {
            LOG.warn("the outbound router ({}) could not be made: guest connections go out directly",
                    objects.getServiceReference().getProperty("component.name"));
            return;
        }
        synchronized (routerLock) {
            if (routerBound != objects) {
                return; // replaced or unbound while it was made; SCR releases it with its binding
            }
            routerSource = objects;
            router = service;
            NetStack s = stack;
            if (s != null && !handedOver) {
                s.router(service);
            }
        }
    }

    void unbindRouter(ComponentServiceObjects<OutboundRouter> objects) {
        synchronized (routerLock) {
            if (routerBound == objects) {
                routerBound = null;
            }
            if (routerSource == objects) {
                routerSource = null;
                router = null;
                NetStack s = stack;
                if (s != null && !handedOver) {
                    s.router(null);
                }
            }
        }
    }

    /**
     * With an update under way the stack hands over (see {@link NetStack#handOver()}), in two parts:
     * <ul>
     * <li>{@code BSN/stack} (format {@value #HANDOVER_FORMAT}): {@code links}, one
     * {@code Supplier<Map>} per link that detaches it when called and returns its description
     * ({@link LinkHandover}: descriptor or channel, unframed bytes, the frames held for the next
     * version); until then the link is still read, ARP and DNS to the gateway answered and every
     * other frame held. {@code leases}: {@code long[] {mac, ip, grantedEpochMillis}}.</li>
     * <li>{@code BSN/flows} (format {@value #FLOWS_FORMAT}): {@code tcp}, the guest TCP connections
     * ({@link TcpHandover}) with their host sockets or, for the proxy interceptor's connections, a
     * bridge to the buffers the interceptor's threads still use; {@code tcpResets}, each one's reset record,
     * whose layout does not change, so a version that cannot read {@code tcp} still resets them;
     * {@code udp}, the guest UDP flows with their host sockets ({@link Udp#handOver}); {@code echo},
     * the ICMP echo flows with their ping sockets' descriptors ({@code EchoRelay.handOver}); {@code reset},
     * what could not be handed over and was reset (DNS streams with a query in flight).</li>
     * </ul>
     * Without an update every guest connection is reset at once (RST to the guest), never left hanging.
     */
    @Deactivate
    void deactivate() {
        if (vmLink != null) {
            vmLink.close();
        }
        for (SocketListener l : listeners) {
            l.close();
        }
        listeners.clear();
        if (parking == null || !parking.restartExpected(owner.substring(0, owner.indexOf('/')))) {
            stack.close();
            return;
        }
        handedOver = true;
        NetStack.HandOver state;
        try {
            state = stack.handOver();
        } catch (RuntimeException e) {
            LOG.error("the network stack could not be handed over: every guest connection is reset", e);
            stack.close();
            return;
        }
        List<String> reset = new ArrayList<>();
        if (state.tcpReset() > 0) {
            reset.add(state.tcpReset() + " guest TCP connections the next version cannot take (DNS streams with a query "
                    + "in flight): RST to the guest");
        }
        List<Supplier<Map<String, Object>>> links = state.links();
        parking.deposit(new HandoverState(owner, HANDOVER_FORMAT, Map.of("links", links, "leases", List.copyOf(state.leases()),
                        LATE_DNS_ANSWERS, state.lateDnsAnswers()),
                List.of(links.size() + " links", state.leases().size() + " DHCP leases"), () -> {
                    for (Supplier<Map<String, Object>> link : links) {
                        Map<String, Object> description = link.get();
                        if (description != null) {
                            LinkHandover.close(description);
                        }
                    }
                }));
        List<Map<String, Object>> tcp = state.tcp();
        List<Map<String, Object>> udp = state.udp();
        List<Object> echo = new ArrayList<>(state.echoFlows());
        echo.addAll(pendingEchoFlows);
        pendingEchoFlows = List.of();
        parking.deposit(new HandoverState(flowsOwner, FLOWS_FORMAT,
                Map.of(TCP, tcp, TCP_RESETS, state.tcpResetRecords(), UDP, udp, ECHO, echo, "reset", List.copyOf(reset)),
                List.of(tcp.size() + " TCP connections", udp.size() + " UDP flows", echo.size() + " ICMP echo flows"), () -> {
                    tcp.forEach(c -> HostEndpoints.discard(c.get(TcpHandover.HOST)));
                    udp.forEach(f -> HostEndpoints.discard(f.get(Udp.CHANNEL)));
                    NetStack.discardEchoFlows(echo);
                }));
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

    @Override
    public void checkRoute(InetAddress target, InetAddress via) {
        String reason = stack.unroutedReason(target, via);
        if (reason != null) {
            throw new IllegalArgumentException("no route through the guest: " + reason);
        }
    }

    @Override
    public void connect(java.nio.channels.SocketChannel hostSide, java.net.InetSocketAddress target, InetAddress via)
            throws IOException {
        checkRoute(target.getAddress(), via);
        stack.connectToGuest(hostSide, target, via);
    }

    @Override
    public GuestDatagramFlow openDatagramFlow(java.net.InetSocketAddress target, InetAddress via, DatagramReceiver replies)
            throws IOException {
        checkRoute(target.getAddress(), via);
        return stack.openFlowToGuest(target, via, replies);
    }
}

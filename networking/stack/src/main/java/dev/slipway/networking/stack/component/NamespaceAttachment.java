package dev.slipway.networking.stack.component;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.StatusContributor;
import dev.slipway.api.handover.HandoverClaim;
import dev.slipway.api.handover.HandoverParking;
import dev.slipway.api.handover.HandoverState;
import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.Platform;
import dev.slipway.networking.stack.Ip4;
import dev.slipway.networking.stack.NetConfig;

/**
 * The embedded default on Linux: a network namespace ({@code slipway.netns}, default
 * {@code slipway}; {@code none} turns it off) attached to the stack through a tap device and
 * configured by its own DHCP client. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); without it,
 * says what works without and what does not.
 *
 * <p>Its state is the {@code guest} section of {@code slipway status --json}: {@code ready} is true
 * once the namespace's DHCP client configured its address (so a request from the namespace works),
 * and {@code slipway up -d} waits for it while the state is {@code starting}.
 */
@Component(configurationPid = "dev.slipway.net", configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true,
        service = StatusContributor.class, property = StatusContributor.KEY + "=guest")
public final class NamespaceAttachment implements StatusContributor {
    private static final Logger LOG = LoggerFactory.getLogger(NamespaceAttachment.class);
    static final String DEVICE = "slw0";

    static final int HANDOVER_FORMAT = 1;

    private final GuestNamespace namespace;
    private final Thread starter;
    private final String name;
    private volatile String state = "starting";
    private final HandoverParking parking;
    private final String owner;

    public NamespaceAttachment(BundleContext context, Map<String, Object> properties, StackHost host,
                               CommandRunner commands, Platform platform) {
        this(context, properties, host, commands, platform, null);
    }

    @Activate
    public NamespaceAttachment(BundleContext context, Map<String, Object> properties, @Reference StackHost host,
                               @Reference CommandRunner commands, @Reference Platform platform,
                               @Reference(cardinality = ReferenceCardinality.OPTIONAL) HandoverParking parking) {
        this.parking = parking;
        this.owner = (context.getBundle() == null ? "dev.slipway.networking.stack" : context.getBundle().getSymbolicName()) + "/namespace";
        NetworkSettings settings = new NetworkSettings(properties, context::getProperty);
        String name = settings.get("netns", "netns");
        if (name == null) {
            name = "slipway";
        }
        this.name = name;
        if (name.isBlank() || name.equals("none") || !"linux".equals(platform.osName())) {
            namespace = null;
            starter = null;
            state = "off";
            return;
        }
        NetConfig config = host.stack().config();
        namespace = new GuestNamespace(commands, name, DEVICE, config);
        HandoverClaim claim = parking == null ? null : parking.claim(owner);
        if (claim != null && takeOver(claim, host, name)) {
            starter = null;
            return;
        }
        String ns = name;
        starter = new Thread(() -> start(host, commands, ns, config), "slipway-net-namespace");
        starter.setDaemon(true);
        starter.start();
    }

    private void start(StackHost host, CommandRunner commands, String name, NetConfig config) {
        try {
            CommandRunner.Result id = commands.run(List.of("id", "-u"), Duration.ofSeconds(5));
            if (!"0".equals(id.stdout().strip())) {
                state = "needs root";
                LOG.warn("not root: the guest namespace '{}' is not created. Without root, VMs connect through "
                        + "--vm-socket PATH (QEMU: -netdev stream,addr.type=unix,addr.path=PATH) or --vpnkit-socket PATH; "
                        + "a network namespace with a tap device needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN).", name);
                return;
            }
            namespace.start(host.stack());
            if (namespace.leftoverRemoved()) {
                LOG.info("removed the guest namespace '{}' left by a runtime that was killed", name);
            }
            state = "attached " + namespace.address();
            LOG.info("guest namespace '{}' is up with {}: try ip netns exec {} curl http://{}:8000/ for a host server on port 8000",
                    name, namespace.address(), name, Ip4.toString(config.hostAlias()));
        } catch (IOException | RuntimeException e) {
            state = "failed: " + e.getMessage();
            LOG.error("cannot set up the guest namespace '{}': {}", name, e.getMessage());
            namespace.close();
        }
    }

    /** Goes on with the namespace the previous version made, when the stack took over its tap. */
    private boolean takeOver(HandoverClaim claim, StackHost host, String name) {
        HandoverState handed = claim.state();
        if (handed.formatVersion() != HANDOVER_FORMAT) {
            claim.refuse("namespace state format " + handed.formatVersion() + ", this version reads " + HANDOVER_FORMAT);
            return false;
        }
        String address = handed.item("address", String.class);
        @SuppressWarnings("unchecked")
        List<String> files = handed.item("files", List.class);
        if (!name.equals(handed.item("name", String.class)) || address == null || files == null
                || !host.stack().transports().contains("tap " + DEVICE)) {
            claim.refuse("the namespace '" + handed.item("name", String.class) + "' or its tap was not handed over to this configuration");
            return false;
        }
        namespace.adopt(address, files);
        state = "attached " + address;
        LOG.info("guest namespace '{}' with {} taken over from the previous version", name, address);
        claim.accept(List.of("namespace " + name + " (" + address + ")"), List.of());
        return true;
    }

    /** What happened to the namespace: starting, off, needs root, attached ADDRESS, failed: WHY. */
    public String state() {
        return state;
    }

    @Override
    public Object status() {
        String now = state;
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("namespace", name);
        status.put("ready", now.startsWith("attached "));
        status.put("state", now);
        if (now.startsWith("attached ")) {
            status.put("address", now.substring("attached ".length()));
        }
        return status;
    }

    @Deactivate
    void deactivate() {
        if (starter != null) {
            try {
                starter.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (namespace == null) {
            return;
        }
        if (parking != null && state.startsWith("attached") && parking.restartExpected(owner.substring(0, owner.indexOf('/')))) {
            GuestNamespace kept = namespace;
            parking.deposit(new HandoverState(owner, HANDOVER_FORMAT,
                    Map.of("name", namespace.name(), "address", namespace.address(), "files", namespace.files()),
                    List.of("namespace " + namespace.name() + " (" + namespace.address() + ")"), kept::close));
            return;
        }
        namespace.close();
    }
}

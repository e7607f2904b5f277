package dev.slipway.networking.ports;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.control.CommandResult;
import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.helper.HelperClient;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.platform.linux.natives.ReceivedSockets;

/**
 * The guest's engine for the host's docker CLI, when {@code dev.slipway.docker} is configured: the
 * engine is served at {@code ~/.slipway/run/docker.sock} (mode 0600), a docker context
 * {@code slipway} points at it, and with {@code makeCurrent=true} it becomes the CLI's current
 * context until Slipway stops, when the previous one is restored. {@code slipway docker-env} prints
 * the DOCKER_HOST line for shells that use neither.
 *
 * <p>The engine is reached through the {@link EngineChannel}: the VM's virtio-serial port, whose
 * connection the helper passes here ({@code vm.attach-engine}: when it tells {@code engineChannel}
 * that the VM started, and when this runtime finds the helper while the VM runs, as after a runtime
 * restart), and a relay to the engine's Unix socket in the guest, so
 * nothing in the guest's network (no container) can reach the engine. Its containers' ports are
 * published by {@link EnginePorts}. An engine that does listen on TCP in the guest can still be named
 * with {@code guest=GUESTIP:PORT} (then the socket is an ordinary published port and nothing is
 * published by itself).
 *
 * <p>Settings: {@code socket} (default {@code ~/.slipway/run/docker.sock}), {@code engineChannel}
 * (default {@code engine.sock} beside the VM socket {@code slipway.vm-socket}, else
 * {@code ~/.slipway/run/engine.sock}), {@code engineAddress} (the VM's address on Slipway's network,
 * default 192.168.65.3), {@code publishPorts} (default true), {@code guest}, {@code makeCurrent}
 * (default false), {@code dockerConfig} (default {@code $DOCKER_CONFIG} or {@code ~/.docker}),
 * {@code context} (default {@code slipway}).
 */
@Component(configurationPid = "dev.slipway.docker", configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = ControlCommand.class, property = {ControlCommand.NAME + "=docker-env",
                ControlCommand.SUMMARY + "=print the DOCKER_HOST line for the guest's engine (eval \"$(slipway docker-env)\")"})
public final class DockerIntegration implements ControlCommand {
    private static final Logger LOG = LoggerFactory.getLogger(DockerIntegration.class);
    private static final java.time.Duration FOLLOW_RETRY = java.time.Duration.ofSeconds(1);
    private final PortForwarder forwarder;
    private volatile HelperClient helper;
    private final PublishedPort published;
    private final Path socket;
    private final EngineChannel channel;
    private volatile EnginePorts ports;
    private final String engineAddress;
    private final DockerContext contexts;
    private final String contextName;
    private final Path previousFile;
    private boolean madeCurrent;

    @Activate
    public DockerIntegration(BundleContext context, Map<String, Object> properties, @Reference PortForwarder forwarder)
            throws IOException {
        this.forwarder = forwarder;
        String home = System.getProperty("user.home");
        String guest = string(properties, "guest", null);
        this.socket = Path.of(string(properties, "socket", home + "/.slipway/run/docker.sock"));
        String envConfig = System.getenv("DOCKER_CONFIG");
        Path dockerConfig = Path.of(string(properties, "dockerConfig",
                envConfig != null && !envConfig.isBlank() ? envConfig : home + "/.docker"));
        this.contextName = string(properties, "context", "slipway");
        this.contexts = new DockerContext(dockerConfig);
        this.previousFile = socket.resolveSibling("docker-previous-context");
        if (guest != null) {
            this.published = new PublishedPort(PublishedPort.UNIX, socket.toString(), "tcp://" + guest);
            published.remoteAddress();
            this.channel = null;
            this.ports = null;
            this.engineAddress = null;
            try {
                forwarder.expose(published, false, false);
            } catch (IllegalStateException e) {
                // published by an earlier activation of this component that did not get to clean up
                LOG.debug("docker socket already published", e);
            }
            LOG.info("the guest's engine {} is published at {}; docker context '{}'", guest, socket, contextName);
        } else {
            this.published = null;
            String vmSocket = context == null ? null : context.getProperty("slipway.vm-socket");
            Path channelSocket = Path.of(string(properties, "engineChannel", vmSocket != null && !vmSocket.isBlank()
                    ? Path.of(vmSocket).resolveSibling("engine.sock").toString() : home + "/.slipway/run/engine.sock"));
            this.channel = new EngineChannel(channelSocket, socket, () -> attachEngine(channelSocket));
            this.engineAddress = string(properties, "engineAddress", "192.168.65.3");
            this.ports = Boolean.parseBoolean(string(properties, "publishPorts", "true"))
                    ? new EnginePorts(forwarder, socket, engineAddress, FOLLOW_RETRY) : null;
            LOG.info("the guest's engine is served at {} through the VM's engine channel {}; docker context '{}'", socket,
                    channelSocket, contextName);
        }
        contexts.write(contextName, "Slipway: the guest's engine", "unix://" + socket);
        if (Boolean.parseBoolean(string(properties, "makeCurrent", "false"))) {
            String previous = contexts.current();
            if (!contextName.equals(previous)) {
                // kept on disk: a runtime killed before restoring it restores it on its next stop
                Files.writeString(previousFile, previous == null ? "" : previous, StandardCharsets.UTF_8);
                contexts.makeCurrent(contextName);
            }
            madeCurrent = true;
            LOG.info("docker context '{}' is current (was '{}')", contextName, previous == null ? "default" : previous);
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindHelper(HelperClient h) {
        helper = h;
        // a runtime that comes back to a running VM takes its engine channel again
        if (channel != null) {
            channel.attachInBackground();
        }
    }

    void unbindHelper(HelperClient h) {
        if (helper == h) {
            helper = null;
        }
    }

    /** A new connection to the running VM's engine port, from the helper ({@code vm.attach-engine}). */
    private SocketChannel attachEngine(Path channelSocket) throws IOException {
        HelperClient h = helper;
        if (h == null) {
            throw new IOException("no helper to ask for the VM's engine channel");
        }
        HelperClient.DescriptorReply reply;
        try {
            reply = h.callForDescriptor(HelperSchema.VM_ATTACH_ENGINE, Map.of(HelperSchema.PARAM_NAME, HelperSchema.VM_NAME));
        } catch (HelperException e) {
            throw new IOException("the helper did not attach the VM's engine channel: " + e.getMessage(), e);
        }
        return ReceivedSockets.unix(reply.descriptor(), channelSocket.resolveSibling("engine-attach.sock"));
    }

    /** Whether the VM's engine channel is attached. */
    boolean engineAttached() {
        return channel != null && channel.attached();
    }

    EnginePorts enginePorts() {
        return ports;
    }

    /** Follows the engine anew, as a restarted runtime does: what runs is listed and published again. */
    synchronized void restartEnginePorts() {
        EnginePorts old = ports;
        if (old != null) {
            old.close();
            ports = new EnginePorts(forwarder, socket, engineAddress, FOLLOW_RETRY);
        }
    }

    private static String string(Map<String, Object> properties, String key, String fallback) {
        Object v = properties.get(key);
        return v == null || v.toString().isBlank() ? fallback : v.toString().trim();
    }

    @Override
    public CommandResult execute(List<String> args) {
        return CommandResult.ok("export DOCKER_HOST=unix://" + socket + "\n");
    }

    @Deactivate
    void deactivate() {
        if (madeCurrent) {
            try {
                if (contextName.equals(contexts.current())) {
                    String previous = Files.exists(previousFile) ? Files.readString(previousFile, StandardCharsets.UTF_8).trim() : "";
                    contexts.makeCurrent(previous.isEmpty() ? null : previous);
                    LOG.info("docker context '{}' is current again", previous.isEmpty() ? "default" : previous);
                } else {
                    LOG.info("the user chose another docker context meanwhile; it is left current");
                }
                Files.deleteIfExists(previousFile);
            } catch (IOException e) {
                LOG.warn("cannot restore the previous docker context: {}", e.getMessage());
            }
        }
        EnginePorts p = ports;
        if (p != null) {
            p.close();
        }
        if (channel != null) {
            channel.close();
        }
        if (published != null) {
            try {
                forwarder.unexpose(published.protocol(), published.local());
            } catch (IOException | IllegalStateException e) {
                LOG.debug("docker socket already unpublished", e);
            }
        }
    }
}

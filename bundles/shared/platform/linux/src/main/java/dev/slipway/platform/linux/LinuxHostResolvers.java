package dev.slipway.platform.linux;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.slipway.api.platform.HostResolvers;

/**
 * The resolvers of {@code /etc/resolv.conf} (or the file named by the framework property
 * {@value #RESOLV_CONF_PROPERTY}). The file is checked every {@value #POLL_SECONDS} seconds: it is
 * often a link that NetworkManager, systemd-resolved or a VPN client replaces, which file-change
 * notifications on the link's directory miss.
 */
@Component(service = HostResolvers.class, immediate = true)
public final class LinuxHostResolvers implements HostResolvers {

    public static final String RESOLV_CONF_PROPERTY = "slipway.resolv-conf";
    static final int POLL_SECONDS = 2;
    private static final Logger LOG = LoggerFactory.getLogger(LinuxHostResolvers.class);

    private final Path file;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService poller;
    private volatile String lastText;
    private volatile List<Resolver> resolvers = List.of();

    @Activate
    public LinuxHostResolvers(BundleContext context) {
        this(Path.of(context.getProperty(RESOLV_CONF_PROPERTY) != null
                ? context.getProperty(RESOLV_CONF_PROPERTY) : "/etc/resolv.conf"), true);
    }

    LinuxHostResolvers(Path file, boolean poll) {
        this.file = file;
        refresh();
        if (poll) {
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "slipway-resolv-conf");
                t.setDaemon(true);
                return t;
            });
            poller.scheduleWithFixedDelay(this::refresh, POLL_SECONDS, POLL_SECONDS, TimeUnit.SECONDS);
        } else {
            poller = null;
        }
    }

    @Deactivate
    void deactivate() {
        if (poller != null) {
            poller.shutdownNow();
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    synchronized void addListener(Listener listener) {
        listeners.add(listener);
        listener.resolversChanged(resolvers);
    }

    void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    @Override
    public List<Resolver> resolvers() {
        return resolvers;
    }

    /** Reads the file again and tells the listeners when the resolvers changed. */
    void refresh() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            text = "";
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot read " + file + "; keeping the last resolvers", e);
            return;
        }
        if (text.equals(lastText)) {
            return;
        }
        lastText = text;
        List<Resolver> parsed = ResolvConf.parse(text);
        if (parsed.equals(resolvers)) {
            return;
        }
        tell(parsed);
    }

    /** Under the lock addListener takes, so a new listener never hears an older list last. */
    private synchronized void tell(List<Resolver> parsed) {
        resolvers = parsed;
        for (Listener listener : listeners) {
            try {
                listener.resolversChanged(parsed);
            } catch (RuntimeException e) {
                LOG.warn("a resolver listener failed", e);
            }
        }
    }
}

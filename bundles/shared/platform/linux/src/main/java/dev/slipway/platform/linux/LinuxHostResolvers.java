package dev.slipway.platform.linux;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.WatchService;
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
 * {@value #RESOLV_CONF_PROPERTY}), read again when the OS tells of a change to the file, to a link
 * on the way to it or to the file a link names ({@link LinkedFileWatch}). Where file-change
 * notifications cannot be had, the file is read every {@value #POLL_SECONDS} seconds, and the log
 * says so.
 */
@Component(service = HostResolvers.class, immediate = true)
public final class LinuxHostResolvers implements HostResolvers {

    public static final String RESOLV_CONF_PROPERTY = "slipway.resolv-conf";
    static final int POLL_SECONDS = 2;
    private static final String THREAD_NAME = "slipway-resolv-conf";
    private static final Logger LOG = LoggerFactory.getLogger(LinuxHostResolvers.class);

    private final Path file;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final LinkedFileWatch watch;
    private final ScheduledExecutorService poller;
    private volatile String lastText;
    private volatile List<Resolver> resolvers = List.of();

    @Activate
    public LinuxHostResolvers(BundleContext context) {
        this(Path.of(context.getProperty(RESOLV_CONF_PROPERTY) != null
                ? context.getProperty(RESOLV_CONF_PROPERTY) : "/etc/resolv.conf"),
                () -> FileSystems.getDefault().newWatchService());
    }

    /** @param watchService the watch service to follow changes with; null: read only on {@link #refresh()} */
    LinuxHostResolvers(Path file, WatchServiceSource watchService) {
        this.file = file;
        LinkedFileWatch watching = null;
        if (watchService != null) {
            WatchService service = null;
            try {
                service = watchService.open();
                watching = new LinkedFileWatch(file, service, this::refresh, THREAD_NAME);
            } catch (IOException | RuntimeException e) {
                closeQuietly(service);
                LOG.warn("cannot watch {} for changes ({}); reading it every {} s instead", file, e.toString(), POLL_SECONDS);
            }
        }
        watch = watching;
        if (watchService != null && watching == null) {
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, THREAD_NAME);
                t.setDaemon(true);
                return t;
            });
            poller.scheduleWithFixedDelay(this::refresh, POLL_SECONDS, POLL_SECONDS, TimeUnit.SECONDS);
        } else {
            poller = null;
        }
        // after the watch is in place, so that no change falls between the two
        refresh();
    }

    @FunctionalInterface
    interface WatchServiceSource {
        WatchService open() throws IOException;
    }

    @Deactivate
    void deactivate() {
        if (watch != null) {
            watch.close();
        }
        if (poller != null) {
            poller.shutdownNow();
        }
    }

    /** Whether changes are followed by notifications rather than by reading the file every few seconds. */
    boolean notified() {
        return watch != null;
    }

    private static void closeQuietly(WatchService service) {
        if (service != null) {
            try {
                service.close();
            } catch (IOException e) {
                LOG.debug("closing a watch service", e);
            }
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

    /** Reads the file again and tells the listeners when the resolvers changed; one reader at a time, so an older text never wins. */
    synchronized void refresh() {
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

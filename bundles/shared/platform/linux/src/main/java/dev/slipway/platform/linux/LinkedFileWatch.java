package dev.slipway.platform.linux;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an action when a file may have changed, from the OS's file notifications (inotify: the
 * thread waits with no timeout). A file such as {@code /etc/resolv.conf} is often a symbolic link
 * that NetworkManager, systemd-resolved or a VPN client retargets, and the file it names is replaced
 * in its own directory: so the directory of the file and the directory of each link's target are
 * watched, and the set is worked out again after every change, when a link may point elsewhere. A
 * directory that does not exist yet is watched through its nearest existing ancestor, so that its
 * appearing is noticed too. Only changes to the names on the way count: other files in {@code /etc}
 * come and go without the file being read again.
 */
final class LinkedFileWatch implements AutoCloseable {

    /** Links followed at most, like the kernel's limit on nested links. */
    static final int MAX_LINKS = 40;

    private static final Logger LOG = LoggerFactory.getLogger(LinkedFileWatch.class);

    private final Path file;
    private final WatchService watcher;
    private final Runnable action;
    private final Map<Path, WatchKey> keys = new HashMap<>();
    /** The names in each watched directory whose change matters; other files there are let be. */
    private volatile Map<Path, Set<String>> names = Map.of();
    private final Thread thread;

    /**
     * Watches now; the action runs on a daemon thread named {@code threadName} after each change.
     *
     * @throws IOException when the file's own directory cannot be watched (the caller falls back)
     */
    LinkedFileWatch(Path file, WatchService watcher, Runnable action, String threadName) throws IOException {
        this.file = file.toAbsolutePath().normalize();
        this.watcher = watcher;
        this.action = action;
        Path directory = existingAncestor(this.file.getParent());
        keys.put(directory, directory.register(watcher, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE));
        rearm();
        thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** The directories watched now. */
    synchronized Set<Path> watched() {
        return Set.copyOf(keys.keySet());
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                boolean matters = matters(key);
                key.reset();
                if (matters) {
                    rearm();
                    action.run();
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        } catch (RuntimeException e) {
            LOG.error("watching " + file + " failed; it is no longer re-read", e);
        }
    }

    private boolean matters(WatchKey key) {
        Set<String> relevant = names.getOrDefault((Path) key.watchable(), Set.of());
        boolean matters = false;
        for (WatchEvent<?> event : key.pollEvents()) {
            matters |= event.kind() == OVERFLOW || relevant.contains(String.valueOf(event.context()));
        }
        return matters;
    }

    /** Watches the directories the file's links now lead through, and no others. */
    private synchronized void rearm() {
        Map<Path, Set<String>> now = namesByDirectory(file);
        names = now;
        Set<Path> directories = now.keySet();
        keys.entrySet().removeIf(entry -> {
            if (directories.contains(entry.getKey()) && entry.getValue().isValid()) {
                return false;
            }
            entry.getValue().cancel();
            return true;
        });
        for (Path directory : directories) {
            if (keys.containsKey(directory)) {
                continue;
            }
            try {
                keys.put(directory, directory.register(watcher, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE));
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot watch {} (where {} leads): a change there is noticed only with a change in {}",
                        directory, file, file.getParent(), e);
            }
        }
    }

    /** The directory of the file and of each link on the way to the file it names. */
    static Set<Path> directories(Path file) {
        return namesByDirectory(file).keySet();
    }

    /**
     * Each directory to watch, with the names in it whose change matters: the file's, each link's, and
     * for a directory not there yet, the name of its first missing part under the ancestor watched.
     */
    static Map<Path, Set<String>> namesByDirectory(Path file) {
        Map<Path, Set<String>> names = new LinkedHashMap<>();
        Path current = file.toAbsolutePath().normalize();
        for (int links = 0; links <= MAX_LINKS; links++) {
            Path directory = current.getParent();
            Path watched = existingAncestor(directory);
            Path named = watched.equals(directory) ? current : watched.resolve(watched.relativize(directory).getName(0));
            names.computeIfAbsent(watched, d -> new HashSet<>()).add(named.getFileName().toString());
            if (!Files.isSymbolicLink(current)) {
                break;
            }
            try {
                current = directory.resolve(Files.readSymbolicLink(current)).normalize();
            } catch (IOException e) {
                // replaced between the two looks: the change that did it comes as an event
                break;
            }
        }
        return names;
    }

    private static Path existingAncestor(Path directory) {
        Path existing = directory;
        while (existing.getParent() != null && !Files.isDirectory(existing)) {
            existing = existing.getParent();
        }
        return existing;
    }

    @Override
    public void close() {
        try {
            watcher.close();
        } catch (IOException e) {
            LOG.debug("closing the watch service", e);
        }
        thread.interrupt();
    }
}

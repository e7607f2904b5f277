package dev.slipway.deploy;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an action after something changed in one of a set of directories, from the OS's file
 * notifications: the thread waits on the watch service with no timeout, so nothing wakes while
 * nothing changes. A burst of events (a file being written) is let settle first, and the action
 * runs again one, three and seven seconds after the last event of a burst.
 *
 * <p>When the watch service cannot be had or a directory cannot be watched (the inotify limits
 * reached), the action runs every {@link #FALLBACK_INTERVAL_MS} ms instead, and the log says so.
 */
final class DirectoryChanges implements AutoCloseable {

    static final long FALLBACK_INTERVAL_MS = 2000;
    /** Quiet this long ends a burst of events. */
    static final long SETTLE_MS = 100;
    /** A burst longer than this does not hold the action back any longer. */
    static final long SETTLE_MAX_MS = 1000;
    static final long RECHECK_MS = 1000;

    private static final Logger LOG = LoggerFactory.getLogger(DirectoryChanges.class);

    private final Runnable action;
    private final long recheckMs;
    private final String threadName;
    private final WatchService watcher;
    private final Map<Path, WatchKey> keys = new HashMap<>();
    private final Thread thread;
    private ScheduledExecutorService fallback;

    DirectoryChanges(String threadName, Runnable action) {
        this(threadName, action, RECHECK_MS);
    }

    /** With the first re-run {@code recheckMs} after a burst (tests shorten it). */
    DirectoryChanges(String threadName, Runnable action, long recheckMs) {
        this.recheckMs = recheckMs;
        this.action = action;
        this.threadName = threadName;
        WatchService service;
        try {
            service = FileSystems.getDefault().newWatchService();
        } catch (IOException | UnsupportedOperationException e) {
            service = null;
            fallBack("no file-change notifications (" + e.getMessage() + ")");
        }
        watcher = service;
        if (watcher != null) {
            thread = new Thread(this::run, threadName);
            thread.setDaemon(true);
            thread.start();
        } else {
            thread = null;
        }
    }

    /** Watches exactly these directories from now on; runs the action once when one was added. */
    void watch(Set<Path> directories) {
        boolean added = false;
        synchronized (this) {
            if (watcher == null) {
                return;
            }
            keys.entrySet().removeIf(entry -> {
                if (directories.contains(entry.getKey())) {
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
                    added = true;
                    LOG.debug("watching {} for changes", directory);
                } catch (IOException | RuntimeException e) {
                    fallBack("cannot watch " + directory + " (" + e + ")");
                }
            }
        }
        if (added) {
            // a change made before the watch was in place
            action.run();
        }
    }

    synchronized Set<Path> watched() {
        return Set.copyOf(keys.keySet());
    }

    private void run() {
        try {
            WatchKey key = watcher.take();
            while (true) {
                settle(key);
                action.run();
                // A scan that was already running when the action woke it misses the wake-up, and the
                // reader's own watch service may queue the event a moment after this one: again after
                // RECHECK_MS, then after twice and four times that, for a scan slowed by a busy machine.
                // Only after a change: an idle runtime never wakes here.
                key = null;
                for (long wait = recheckMs; key == null && wait <= 4 * recheckMs; wait *= 2) {
                    key = watcher.poll(wait, TimeUnit.MILLISECONDS);
                    if (key == null) {
                        action.run();
                    }
                }
                if (key == null) {
                    key = watcher.take();
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        } catch (RuntimeException e) {
            LOG.error("watching for changes failed", e);
            fallBack("the watch failed (" + e + ")");
        }
    }

    private void settle(WatchKey first) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MAX_MS);
        WatchKey key = first;
        while (key != null) {
            key.pollEvents();
            if (!key.reset()) {
                LOG.warn("{} is gone: no longer watched for changes", key.watchable());
            }
            if (System.nanoTime() >= until) {
                return;
            }
            key = watcher.poll(SETTLE_MS, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void fallBack(String why) {
        if (fallback != null) {
            return;
        }
        LOG.warn("{}: looking for changes every {} ms instead", why, FALLBACK_INTERVAL_MS);
        fallback = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName + "-poll");
            t.setDaemon(true);
            return t;
        });
        fallback.scheduleWithFixedDelay(action, FALLBACK_INTERVAL_MS, FALLBACK_INTERVAL_MS, TimeUnit.MILLISECONDS);
    }

    synchronized boolean fellBack() {
        return fallback != null;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (fallback != null) {
                fallback.shutdownNow();
            }
        }
        if (watcher != null) {
            try {
                watcher.close();
            } catch (IOException e) {
                LOG.debug("closing the watch service", e);
            }
        }
        if (thread != null) {
            thread.interrupt();
        }
    }
}

package dev.slipway.launcher;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.osgi.framework.Version;

/**
 * The bundle updates waiting in {@code deploy/} when the runtime starts: the newest version of each
 * symbolic name among the jars there that are bundles. A jar that is not a bundle is named on
 * {@code out} and left out; the deploy bundle reports it in {@code status} too.
 */
final class PendingUpdates {

    private PendingUpdates() {
    }

    static Map<String, Version> newestIn(Path deploy, PrintStream out) {
        Map<String, Version> newest = new HashMap<>();
        List<Path> jars;
        try (Stream<Path> files = Files.list(deploy)) {
            jars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            return newest;
        }
        for (Path jar : jars) {
            Optional<BundleRepository.Entry> entry;
            try {
                entry = BundleRepository.identify(jar);
            } catch (IOException | IllegalArgumentException e) {
                out.println("slipway: deploy/" + jar.getFileName() + " is not a bundle (" + e.getMessage() + "); skipped");
                continue;
            }
            if (entry.isEmpty()) {
                out.println("slipway: deploy/" + jar.getFileName() + " is not a bundle (no OSGi manifest); skipped");
                continue;
            }
            newest.merge(entry.get().symbolicName(), entry.get().version(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
        }
        return newest;
    }
}

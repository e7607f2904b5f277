package dev.slipway.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.osgi.framework.Version;
import org.osgi.framework.VersionRange;

/** The bundle jars of a distribution's {@code bundles/} folder, found by symbolic name and version. */
public final class BundleRepository {

    /** A bundle jar and the identity its manifest declares. */
    public record Entry(Path jar, String symbolicName, Version version) {}

    private final List<Entry> entries;

    private BundleRepository(List<Entry> entries) {
        this.entries = entries;
    }

    public static BundleRepository scan(Path directory) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path jar : files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                identify(jar).ifPresent(entries::add);
            }
        }
        return new BundleRepository(entries);
    }

    /** The identity of a bundle jar, or empty when the file is not an OSGi bundle. */
    public static Optional<Entry> identify(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            if (manifest == null) {
                return Optional.empty();
            }
            Attributes main = manifest.getMainAttributes();
            String name = main.getValue("Bundle-SymbolicName");
            if (name == null || !"2".equals(main.getValue("Bundle-ManifestVersion"))) {
                return Optional.empty();
            }
            String version = main.getValue("Bundle-Version");
            return Optional.of(new Entry(jar, name.split(";")[0].trim(),
                    version == null ? Version.emptyVersion : Version.parseVersion(version.trim())));
        }
    }

    /** The highest version of {@code requirement} present, or a clear error naming what is missing. */
    public Entry find(RunSpec.Requirement requirement) throws IOException {
        VersionRange range = requirement.versionRange() == null ? null : new VersionRange(requirement.versionRange());
        return entries.stream()
                .filter(e -> e.symbolicName().equals(requirement.symbolicName()))
                .filter(e -> range == null || range.includes(e.version()))
                .max(Comparator.comparing(Entry::version))
                .orElseThrow(() -> new IOException("bundle " + requirement.symbolicName()
                        + (range == null ? "" : " " + range) + " is listed in the bndrun but not in the distribution"));
    }

    /** Every jar that a run needs, in the bndrun's order. */
    public List<Entry> resolve(RunSpec spec) throws IOException {
        List<Entry> result = new ArrayList<>();
        for (RunSpec.Requirement requirement : spec.bundles()) {
            result.add(find(requirement));
        }
        return result;
    }
}

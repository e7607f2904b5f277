package dev.slipway.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
        for (Path jar : jars(directory)) {
            identifyOrSkip(jar).ifPresent(entries::add);
        }
        return new BundleRepository(entries);
    }

    /**
     * Like {@link #scan(Path)}, but takes the identity of every jar whose size and modification
     * time are unchanged from {@code index} (written by the previous scan) instead of opening it:
     * a start then opens no jar twice. The index is only a cache; a missing or unreadable one is
     * rebuilt.
     */
    public static BundleRepository scan(Path directory, Path index) throws IOException {
        Map<String, String> known = readIndex(index);
        List<Entry> entries = new ArrayList<>();
        StringBuilder next = new StringBuilder();
        boolean changed = false;
        List<Path> jars = jars(directory);
        for (Path jar : jars) {
            BasicFileAttributes attributes = Files.readAttributes(jar, BasicFileAttributes.class);
            String stamp = jar.getFileName() + "\t" + attributes.size() + "\t" + attributes.lastModifiedTime().toMillis();
            String identity = known.get(stamp);
            if (identity == null) {
                changed = true;
                identity = identifyOrSkip(jar).map(e -> e.symbolicName() + "\t" + e.version()).orElse("-");
            }
            next.append(stamp).append('\t').append(identity).append('\n');
            if (!identity.equals("-")) {
                String[] parts = identity.split("\t");
                entries.add(new Entry(jar, parts[0], Version.parseVersion(parts[1])));
            }
        }
        if (changed || known.size() != jars.size()) {
            writeIndex(index, next.toString());
        }
        return new BundleRepository(entries);
    }

    private static List<Path> jars(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
        }
    }

    private static Map<String, String> readIndex(Path index) {
        Map<String, String> known = new HashMap<>();
        try {
            for (String line : Files.readAllLines(index, StandardCharsets.UTF_8)) {
                String[] parts = line.split("\t");
                if (parts.length == 5) {
                    known.put(parts[0] + "\t" + parts[1] + "\t" + parts[2], parts[3] + "\t" + parts[4]);
                } else if (parts.length == 4 && parts[3].equals("-")) {
                    known.put(parts[0] + "\t" + parts[1] + "\t" + parts[2], "-");
                }
            }
        } catch (IOException | RuntimeException e) {
            known.clear();
        }
        return known;
    }

    private static void writeIndex(Path index, String content) {
        try {
            Files.createDirectories(index.getParent());
            Path temporary = index.resolveSibling(index.getFileName() + "." + ProcessHandle.current().pid());
            Files.writeString(temporary, content, StandardCharsets.UTF_8);
            Files.move(temporary, index, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // only a cache: the next start scans the jars again
        }
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

    /** A file in the bundles folder that is not even a zip file is no bundle, not a reason to fail the start. */
    private static Optional<Entry> identifyOrSkip(Path jar) throws IOException {
        try {
            return identify(jar);
        } catch (java.util.zip.ZipException e) {
            return Optional.empty();
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

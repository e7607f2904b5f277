package dev.slipway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Version;

class BundleRepositoryTest {

    @TempDir
    Path dir;

    @Test
    void indexedScanFindsTheSameBundlesAsAFullScan() throws IOException {
        Path bundles = Files.createDirectories(dir.resolve("bundles"));
        bundle(bundles.resolve("a.jar"), "dev.example.a", "1.0.0");
        bundle(bundles.resolve("b.jar"), "dev.example.b", "2.1.0");
        Files.writeString(bundles.resolve("plain.jar"), "not a jar");
        Path index = dir.resolve("cache/bundles.idx");

        BundleRepository first = BundleRepository.scan(bundles, index);
        assertTrue(Files.exists(index));
        BundleRepository second = BundleRepository.scan(bundles, index);

        for (BundleRepository repository : List.of(first, second, BundleRepository.scan(bundles))) {
            assertEquals(new Version(2, 1, 0), repository.find(new RunSpec.Requirement("dev.example.b", "[2,3)")).version());
            assertEquals(bundles.resolve("a.jar"), repository.find(new RunSpec.Requirement("dev.example.a", null)).jar());
        }
    }

    @Test
    void aReplacedJarIsReadAgainNotTakenFromTheIndex() throws IOException {
        Path bundles = Files.createDirectories(dir.resolve("bundles"));
        Path jar = bundles.resolve("a.jar");
        bundle(jar, "dev.example.a", "1.0.0");
        Path index = dir.resolve("bundles.idx");
        BundleRepository.scan(bundles, index);

        bundle(jar, "dev.example.a", "1.5.0");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 2000));

        BundleRepository rescanned = BundleRepository.scan(bundles, index);
        assertEquals(new Version(1, 5, 0), rescanned.find(new RunSpec.Requirement("dev.example.a", null)).version());
        assertThrows(IOException.class, () -> rescanned.find(new RunSpec.Requirement("dev.example.a", "[1.0,1.5)")));
    }

    @Test
    void aCorruptIndexIsRebuilt() throws IOException {
        Path bundles = Files.createDirectories(dir.resolve("bundles"));
        bundle(bundles.resolve("a.jar"), "dev.example.a", "1.0.0");
        Path index = dir.resolve("bundles.idx");
        Files.writeString(index, "garbage\tline\n\u0000\u0001\nmore\tgarbage\t1\t2\t3\t4\t5\n", StandardCharsets.UTF_8);

        BundleRepository repository = BundleRepository.scan(bundles, index);
        assertEquals(new Version(1, 0, 0), repository.find(new RunSpec.Requirement("dev.example.a", null)).version());
        assertTrue(Files.readString(index).contains("dev.example.a"));
    }

    private static void bundle(Path jar, String symbolicName, String version) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", symbolicName);
        main.putValue("Bundle-Version", version);
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // the manifest is the whole bundle
        }
    }
}

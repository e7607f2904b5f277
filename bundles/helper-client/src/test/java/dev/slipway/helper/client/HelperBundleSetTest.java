package dev.slipway.helper.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * Boots exactly the bundle set of {@code cnf/helper.bndrun} in a real Felix with SCR, configured
 * through framework properties only, and talks to the helper over its socket: proves the DS wiring
 * (constructor injection, the handler whiteboard, one platform bundle resolving) and the bndrun.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HelperBundleSetTest {

    private static final Pattern RUNBUNDLE = Pattern.compile("([A-Za-z0-9_.-]+);version='\\[([^,]+),");

    @TempDir
    Path dir;

    @Test
    void theHelperBundleSetResolvesAndServesEveryOperationInFelix() throws Exception {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"), "the platform bundle under test is Linux's");
        Map<String, String> runBundles = runBundles(Path.of("../../cnf/helper.bndrun"));
        Map<String, File> onClassPath = bundlesOnClassPath();
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
        Map<String, String> properties = new HashMap<>();
        properties.put("org.osgi.framework.storage", dir.resolve("felix-cache").toString());
        properties.put("org.osgi.framework.storage.clean", "onFirstInit");
        properties.put("slipway.helper.config", dir.resolve("helper.properties").toString());
        properties.put("slipway.helper.socket", run.resolve("helper.sock").toString());
        properties.put("slipway.helper.group", Files.readAttributes(dir, PosixFileAttributes.class).group().getName());
        properties.put("slipway.helper.audit-log", dir.resolve("log/audit.log").toString());
        properties.put("slipway.helper.hosts-file", dir.resolve("hosts").toString());
        properties.put("slipway.helper.bin-dir", Files.createDirectories(dir.resolve("bin")).toString());
        properties.put("slipway.helper.install-dir", Files.createDirectories(dir.resolve("opt/slipway/bin")).getParent().toString());

        Framework framework = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(properties);
        framework.start();
        try {
            List<Bundle> bundles = new ArrayList<>();
            for (String bsn : runBundles.keySet()) {
                File location = onClassPath.get(bsn);
                assertTrue(location != null, bsn + " from helper.bndrun is not on the test class path");
                String url = location.isDirectory() ? "reference:" + location.toURI() : location.toURI().toString();
                bundles.add(framework.getBundleContext().installBundle(url));
            }
            for (Bundle bundle : bundles) {
                if (!bundle.getSymbolicName().startsWith("dev.slipway.platform.") || bundle.getSymbolicName().endsWith(".linux")) {
                    bundle.start();
                }
            }
            SocketHelperClient client = new SocketHelperClient(run.resolve("helper.sock"), Duration.ofSeconds(10));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(run.resolve("helper.sock")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Map<String, Object> health = client.call("health", Map.of());
            assertEquals(new java.util.TreeSet<>(dev.slipway.api.helper.HelperSchema.operations().keySet()),
                    new java.util.TreeSet<>((List<?>) health.get("operations")), "the helper's bundle set serves every operation of the schema");
            assertEquals(Boolean.TRUE, client.call("hosts.ensure", Map.of()).get("changed"));
            assertTrue(Files.readString(dir.resolve("hosts")).contains("127.0.0.1 kubernetes.docker.internal"));
            for (Bundle bundle : bundles) {
                boolean otherPlatform = bundle.getSymbolicName().matches("dev\\.slipway\\.platform\\.(macos|windows)");
                assertEquals(otherPlatform ? Bundle.INSTALLED : Bundle.ACTIVE, bundle.getState(), bundle.getSymbolicName());
            }
        } finally {
            framework.stop();
            framework.waitForStop(10_000);
        }
        assertTrue(!Files.exists(run.resolve("helper.sock")), "the socket is removed when the helper stops");
    }

    private static Map<String, String> runBundles(Path bndrun) throws IOException {
        String text = Files.readString(bndrun);
        String section = text.substring(text.indexOf("-runbundles:"));
        Map<String, String> bundles = new LinkedHashMap<>();
        Matcher m = RUNBUNDLE.matcher(section);
        while (m.find()) {
            bundles.put(m.group(1), m.group(2));
        }
        assertTrue(bundles.size() >= 10, "parsed " + bundles);
        return bundles;
    }

    private static Map<String, File> bundlesOnClassPath() throws IOException {
        String path = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Map<String, File> bundles = new HashMap<>();
        for (String entry : path.split(File.pathSeparator)) {
            File file = new File(entry);
            Manifest manifest = null;
            if (file.isDirectory() && new File(file, "META-INF/MANIFEST.MF").isFile()) {
                try (InputStream in = Files.newInputStream(file.toPath().resolve("META-INF/MANIFEST.MF"))) {
                    manifest = new Manifest(in);
                }
            } else if (file.isFile() && entry.endsWith(".jar")) {
                try (JarFile jar = new JarFile(file)) {
                    manifest = jar.getManifest();
                }
            }
            String bsn = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
            if (bsn != null) {
                bundles.putIfAbsent(bsn.split(";")[0].trim(), file);
            }
        }
        return bundles;
    }
}

package dev.slipway.itests;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Builds, at test time, a newer version of a built bundle: same content, a higher Bundle-Version. */
final class NewerBundle {

    private NewerBundle() {
    }

    static Path distJar(String symbolicName) throws IOException {
        Path bundles = SlipwayRuntimeOptions.dist().resolve("bundles");
        try (var files = Files.list(bundles)) {
            return files.filter(p -> p.getFileName().toString().startsWith(symbolicName + "-")).findFirst()
                    .orElseThrow(() -> new IOException("no " + symbolicName + " in " + bundles));
        }
    }

    static Path withVersion(Path original, String version, Path target) throws IOException {
        try (JarFile in = new JarFile(original.toFile());
             OutputStream file = Files.newOutputStream(target)) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            try (JarOutputStream out = new JarOutputStream(file, manifest)) {
                for (Enumeration<JarEntry> entries = in.entries(); entries.hasMoreElements(); ) {
                    JarEntry entry = entries.nextElement();
                    if (entry.getName().equals("META-INF/MANIFEST.MF") || entry.getName().equals("META-INF/")) {
                        continue;
                    }
                    out.putNextEntry(new JarEntry(entry.getName()));
                    try (InputStream content = in.getInputStream(entry)) {
                        content.transferTo(out);
                    }
                    out.closeEntry();
                }
            }
        }
        return target;
    }

    /**
     * A newer version of {@code original} with one more immediate component, {@link DeliberatelyFailing},
     * whose activation throws: a version that starts, takes its predecessor's state, and fails.
     */
    static Path withFailingComponent(Path original, String version, Path target) throws IOException {
        String name = DeliberatelyFailing.class.getName();
        String descriptor = "OSGI-INF/" + name + ".xml";
        String className = name.replace('.', '/') + ".class";
        try (JarFile in = new JarFile(original.toFile());
             OutputStream file = Files.newOutputStream(target)) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version);
            String components = manifest.getMainAttributes().getValue("Service-Component");
            manifest.getMainAttributes().putValue("Service-Component", components == null ? descriptor : components + "," + descriptor);
            try (JarOutputStream out = new JarOutputStream(file, manifest)) {
                for (Enumeration<JarEntry> entries = in.entries(); entries.hasMoreElements(); ) {
                    JarEntry entry = entries.nextElement();
                    if (entry.getName().equals("META-INF/MANIFEST.MF") || entry.getName().equals("META-INF/")) {
                        continue;
                    }
                    out.putNextEntry(new JarEntry(entry.getName()));
                    try (InputStream content = in.getInputStream(entry)) {
                        content.transferTo(out);
                    }
                    out.closeEntry();
                }
                out.putNextEntry(new JarEntry(descriptor));
                out.write(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<scr:component xmlns:scr=\"http://www.osgi.org/xmlns/scr/v1.3.0\" name=\""
                        + name + "\" immediate=\"true\" activate=\"activate\">\n  <implementation class=\"" + name + "\"/>\n</scr:component>\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                out.closeEntry();
                out.putNextEntry(new JarEntry(className));
                try (InputStream content = DeliberatelyFailing.class.getResourceAsStream("/" + className)) {
                    content.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return target;
    }
}

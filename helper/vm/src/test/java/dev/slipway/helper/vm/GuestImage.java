package dev.slipway.helper.vm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A tiny guest built at test time from Debian's packages: the kernel of {@code linux-image-amd64},
 * an initramfs holding busybox-static, the kernel's virtio-net modules (with their dependencies
 * from {@code modules.dep}) and an init script. The initramfs is written in the kernel's "newc"
 * cpio format directly: a few dozen lines, and no dependency on the cpio tool's file ordering.
 */
final class GuestImage {

    static final List<String> NETWORK_MODULES = List.of("virtio_pci", "virtio_net");

    /** A kernel and the modules directory of the same version. */
    record Kernel(Path image, Path modules) {}

    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final Map<String, Integer> modes = new LinkedHashMap<>();
    private final Set<String> dirs = new LinkedHashSet<>();

    /** Debian's newest kernel whose modules are installed, if any. */
    static Optional<Kernel> installedKernel() throws IOException {
        Path boot = Path.of("/boot");
        if (!Files.isDirectory(boot)) {
            return Optional.empty();
        }
        List<Kernel> found = new ArrayList<>();
        try (DirectoryStream<Path> images = Files.newDirectoryStream(boot, "vmlinuz-*")) {
            for (Path image : images) {
                String version = image.getFileName().toString().substring("vmlinuz-".length());
                Path modules = Path.of("/lib/modules", version);
                if (Files.isReadable(image) && Files.isReadable(modules.resolve("modules.dep"))) {
                    found.add(new Kernel(image, modules));
                }
            }
        }
        return found.stream().max((a, b) -> a.image().getFileName().toString().compareTo(b.image().getFileName().toString()));
    }

    /** The modules to load for {@code wanted}, dependencies first, as paths relative to the modules dir. */
    static List<String> loadOrder(Path modulesDep, List<String> wanted) throws IOException {
        Map<String, List<String>> deps = new LinkedHashMap<>();
        Map<String, String> byName = new LinkedHashMap<>();
        for (String line : Files.readAllLines(modulesDep)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String module = line.substring(0, colon).trim();
            List<String> d = new ArrayList<>();
            for (String dep : line.substring(colon + 1).trim().split("\\s+")) {
                if (!dep.isEmpty()) {
                    d.add(dep);
                }
            }
            deps.put(module, d);
            byName.put(moduleName(module), module);
        }
        List<String> order = new ArrayList<>();
        for (String w : wanted) {
            String module = byName.get(w);
            if (module == null) {
                throw new IOException(w + " is not in " + modulesDep + " (built into this kernel?)");
            }
            visit(module, deps, order, new LinkedHashSet<>());
        }
        return order;
    }

    private static void visit(String module, Map<String, List<String>> deps, List<String> order, Set<String> path) {
        if (order.contains(module) || !path.add(module)) {
            return;
        }
        for (String d : deps.getOrDefault(module, List.of())) {
            visit(d, deps, order, path);
        }
        order.add(module);
    }

    static String moduleName(String modulePath) {
        String file = modulePath.substring(modulePath.lastIndexOf('/') + 1);
        return file.replaceFirst("\\.ko(\\.(xz|gz|zst))?$", "").replace('-', '_');
    }

    GuestImage dir(String path) {
        String p = "";
        for (String part : path.split("/")) {
            p = p.isEmpty() ? part : p + "/" + part;
            dirs.add(p);
        }
        return this;
    }

    GuestImage file(String path, byte[] content, int mode) {
        int slash = path.lastIndexOf('/');
        if (slash > 0) {
            dir(path.substring(0, slash));
        }
        files.put(path, content);
        modes.put(path, mode);
        return this;
    }

    GuestImage text(String path, String content, int mode) {
        return file(path, content.getBytes(StandardCharsets.UTF_8), mode);
    }

    /** The initramfs: directories first, then files, then the trailer. */
    void writeCpio(OutputStream out) throws IOException {
        int ino = 1;
        for (String d : dirs) {
            entry(out, ino++, d, 0040755, new byte[0]);
        }
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            entry(out, ino++, f.getKey(), 0100000 | modes.get(f.getKey()), f.getValue());
        }
        entry(out, 0, "TRAILER!!!", 0, new byte[0]);
    }

    private static void entry(OutputStream out, int ino, String name, int mode, byte[] data) throws IOException {
        byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream header = new ByteArrayOutputStream(110 + nameBytes.length + 4);
        header.write("070701".getBytes(StandardCharsets.US_ASCII));
        for (long field : new long[] {ino, mode, 0, 0, mode == 0 ? 1 : ((mode & 0040000) != 0 ? 2 : 1), 0, data.length,
                0, 0, 0, 0, nameBytes.length, 0}) {
            header.write(String.format("%08x", field).getBytes(StandardCharsets.US_ASCII));
        }
        header.write(nameBytes);
        pad(header, header.size());
        out.write(header.toByteArray());
        out.write(data);
        pad(out, data.length);
    }

    private static void pad(OutputStream out, int length) throws IOException {
        int rest = (4 - length % 4) % 4;
        for (int i = 0; i < rest; i++) {
            out.write(0);
        }
    }
}

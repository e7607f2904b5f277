import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarFile;

/**
 * The Java modules the bundles' manifests import packages from: {@code java ImportedModules.java JAR...}
 * prints them, comma-separated. jdeps reads classes only, while the framework resolves a bundle's
 * mandatory {@code Import-Package} of a {@code java.*} or {@code javax.*} package against the packages
 * the running Java runtime has: a package missing there leaves the bundle unresolved, even if its
 * code never reaches it. Optional imports ({@code resolution:=optional}) need nothing.
 */
public final class ImportedModules {

    public static void main(String[] args) throws IOException {
        Map<String, String> moduleOfPackage = new HashMap<>();
        for (var reference : ModuleFinder.ofSystem().findAll()) {
            ModuleDescriptor descriptor = reference.descriptor();
            for (ModuleDescriptor.Exports exports : descriptor.exports()) {
                if (!exports.isQualified()) {
                    moduleOfPackage.put(exports.source(), descriptor.name());
                }
            }
        }
        TreeSet<String> modules = new TreeSet<>();
        for (String jar : args) {
            try (JarFile file = new JarFile(jar)) {
                var manifest = file.getManifest();
                String imports = manifest == null ? null : manifest.getMainAttributes().getValue("Import-Package");
                if (imports == null) {
                    continue;
                }
                for (String clause : clauses(imports)) {
                    if (clause.replace(" ", "").contains("resolution:=optional")) {
                        continue;
                    }
                    for (String part : clause.split(";")) {
                        String name = part.trim();
                        if (name.contains("=") || name.isEmpty()) {
                            break; // attributes and directives follow the package names
                        }
                        String module = moduleOfPackage.get(name);
                        if (module != null && !module.equals("java.base")) {
                            modules.add(module);
                        }
                    }
                }
            }
        }
        System.out.println(String.join(",", modules));
    }

    /** An OSGi header's clauses: split at commas outside quoted values (version ranges hold commas). */
    static List<String> clauses(String header) {
        List<String> clauses = new ArrayList<>();
        StringBuilder clause = new StringBuilder();
        boolean quoted = false;
        for (char c : header.toCharArray()) {
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == ',' && !quoted) {
                clauses.add(clause.toString());
                clause.setLength(0);
            } else {
                clause.append(c);
            }
        }
        clauses.add(clause.toString());
        return clauses;
    }
}

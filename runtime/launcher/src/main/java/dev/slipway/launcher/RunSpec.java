package dev.slipway.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * A bndrun file as the launcher uses it: the bundles to run ({@code -runbundles}), the
 * framework properties ({@code -runproperties}) and extra system packages ({@code -runsystempackages}). bnd's own parser lives in bndlib, several
 * megabytes that would slow every start; the subset used here is bnd's property syntax (which
 * {@link Properties} reads, continuation lines included) plus comma lists with quoted parts.
 */
public record RunSpec(List<Requirement> bundles, Map<String, String> properties, List<String> systemPackages) {

    /** One {@code -runbundles} entry: a symbolic name and a version range (or {@code null} for the highest). */
    public record Requirement(String symbolicName, String versionRange) {}

    public static RunSpec read(Path bndrun) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(bndrun, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        List<Requirement> bundles = new ArrayList<>();
        for (String clause : splitList(properties.getProperty("-runbundles", ""))) {
            String[] parts = clause.split(";");
            String range = null;
            for (int i = 1; i < parts.length; i++) {
                String attribute = parts[i].trim();
                if (attribute.startsWith("version=")) {
                    range = unquote(attribute.substring("version=".length()).trim());
                    if (range.equals("latest") || range.equals("snapshot")) {
                        range = null;
                    }
                }
            }
            bundles.add(new Requirement(parts[0].trim(), range));
        }
        Map<String, String> runProperties = new LinkedHashMap<>();
        for (String entry : splitList(properties.getProperty("-runproperties", ""))) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new IOException(bndrun + ": -runproperties entry without '=': " + entry);
            }
            runProperties.put(entry.substring(0, eq).trim(), unquote(entry.substring(eq + 1).trim()));
        }
        if (bundles.isEmpty()) {
            throw new IOException(bndrun + " lists no -runbundles");
        }
        List<String> systemPackages = splitList(properties.getProperty("-runsystempackages", ""));
        return new RunSpec(List.copyOf(bundles), Map.copyOf(runProperties), List.copyOf(systemPackages));
    }

    /** Splits on commas outside single or double quotes; blank parts are dropped. */
    public static List<String> splitList(String value) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        char quote = 0;
        for (char c : value.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
                current.append(c);
            } else if (c == '\'' || c == '"') {
                quote = c;
                current.append(c);
            } else if (c == ',') {
                addIfNotBlank(parts, current);
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        addIfNotBlank(parts, current);
        return parts;
    }

    private static void addIfNotBlank(List<String> parts, StringBuilder part) {
        String text = part.toString().trim();
        if (!text.isEmpty()) {
            parts.add(text);
        }
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && (value.charAt(0) == '\'' || value.charAt(0) == '"') && value.charAt(value.length() - 1) == value.charAt(0)) {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }
}

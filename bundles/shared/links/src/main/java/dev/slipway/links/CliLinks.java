package dev.slipway.links;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CLI tools' links in one bin dir, each pointing at the same name in Slipway's install dir.
 * Only links that point into the install dir are Slipway's: anything else at a tool's name (a
 * file, another product's link) is left alone and reported, and then nothing is changed at all.
 */
public final class CliLinks {

    /** Something at a tool's name that is not Slipway's. */
    public static final class ConflictException extends IOException {
        private static final long serialVersionUID = 1L;

        ConflictException(String message) {
            super(message);
        }
    }

    private final Path binDir;
    private final Path installDir;
    private final List<String> tools;
    private final String owner;

    /**
     * @param binDir where the links go
     * @param installDir Slipway's install dir; the tools are in its {@code bin}
     * @param tools the tool names
     * @param owner who must own {@code binDir} (besides root)
     */
    /** The tool names of a comma-separated setting, blanks dropped. */
    public static List<String> tools(String commaSeparated) {
        return java.util.Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    public CliLinks(Path binDir, Path installDir, List<String> tools, String owner) {
        this.binDir = binDir.toAbsolutePath().normalize();
        this.installDir = installDir.toAbsolutePath().normalize();
        this.tools = List.copyOf(tools);
        this.owner = owner;
    }

    /**
     * Links every tool that exists in the install dir.
     *
     * @return tool name to what was done ({@code created}, {@code replaced}, {@code unchanged})
     * @throws ConflictException listing every name taken by something not Slipway's; nothing changed
     */
    public Map<String, String> install() throws IOException {
        Path dir = safeDirectory();
        Map<String, Links.Existing> plan = new LinkedHashMap<>();
        List<String> conflicts = new ArrayList<>();
        for (String tool : tools) {
            Path target = installDir.resolve("bin").resolve(tool);
            if (!Files.exists(target)) {
                continue;
            }
            Links.Existing existing = Links.inspect(dir.resolve(tool));
            if (existing instanceof Links.Other other) {
                conflicts.add(dir.resolve(tool) + " is " + other.kind() + ", not a Slipway link");
            } else if (existing instanceof Links.Link link && !isSlipways(link.target())) {
                conflicts.add(dir.resolve(tool) + " links to " + link.target() + ", outside Slipway's install dir " + installDir);
            }
            plan.put(tool, existing);
        }
        if (!conflicts.isEmpty()) {
            throw new ConflictException(String.join("; ", conflicts) + ". Left alone; nothing was changed");
        }
        Map<String, String> done = new LinkedHashMap<>();
        for (Map.Entry<String, Links.Existing> e : plan.entrySet()) {
            Path target = installDir.resolve("bin").resolve(e.getKey());
            if (e.getValue() instanceof Links.Link link && link.target().equals(target)) {
                done.put(e.getKey(), "unchanged");
                continue;
            }
            Links.replaceAtomically(dir.resolve(e.getKey()), target);
            done.put(e.getKey(), e.getValue() instanceof Links.Absent ? "created" : "replaced");
        }
        return done;
    }

    /**
     * Removes the tools' links that are Slipway's.
     *
     * @return tool name to {@code removed}, {@code absent} or {@code not Slipway's, left alone}
     */
    public Map<String, String> remove() throws IOException {
        Path dir = safeDirectory();
        Map<String, String> done = new LinkedHashMap<>();
        for (String tool : tools) {
            Links.Existing existing = Links.inspect(dir.resolve(tool));
            if (existing instanceof Links.Link link && isSlipways(link.target())) {
                Files.delete(dir.resolve(tool));
                done.put(tool, "removed");
            } else if (existing instanceof Links.Absent) {
                done.put(tool, "absent");
            } else {
                done.put(tool, "not Slipway's, left alone");
            }
        }
        return done;
    }

    private boolean isSlipways(Path target) {
        return target.startsWith(installDir);
    }

    private Path safeDirectory() throws IOException {
        Optional<String> problem = Links.unsafeDirectory(binDir, owner);
        if (problem.isPresent()) {
            throw new IOException("refusing to manage links in " + binDir + ": " + problem.get());
        }
        return binDir;
    }
}

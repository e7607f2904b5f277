package dev.slipway.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The launcher's command line, resolved against the environment into absolute locations.
 *
 * @param command empty for a run that lasts until stopped; else what follows {@code --}: the name of a
 *        command served by the run's bundles and its arguments, run once before the framework stops
 */
public record LaunchOptions(String name, Path home, Path runtimeDir, Path dist, Path bndrun,
                            boolean watchDirectories, Map<String, String> frameworkProperties, List<String> command) {

    public LaunchOptions {
        command = List.copyOf(command);
    }

    /**
     * @param env         the process environment ({@code SLIPWAY_HOME}, {@code SLIPWAY_RUNTIME_DIR},
     *                    {@code XDG_RUNTIME_DIR}, {@code HOME} are consulted)
     * @param defaultDist the distribution folder the launcher jar lives in
     */
    public static LaunchOptions parse(String[] args, Map<String, String> env, Path defaultDist) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> properties = new LinkedHashMap<>();
        List<String> command = List.of();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--")) {
                command = List.of(args).subList(i + 1, args.length);
                if (command.isEmpty()) {
                    throw new IllegalArgumentException("'--' must be followed by a command");
                }
                break;
            }
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "' (options are --key value)");
            }
            String key = arg.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq > 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            } else {
                value = "true";
            }
            if (!key.matches("[a-z][a-z0-9.-]*")) {
                throw new IllegalArgumentException("bad option name '--" + key + "'");
            }
            switch (key) {
                case "home", "runtime-dir", "dist", "bndrun", "name", "no-watch" -> values.put(key, value);
                default -> properties.put("slipway." + key, value);
            }
        }
        String userHome = env.getOrDefault("HOME", System.getProperty("user.home"));
        Path home = absolute(values.getOrDefault("home", env.getOrDefault("SLIPWAY_HOME", userHome + "/.slipway")));
        Path runtimeDir;
        if (values.containsKey("runtime-dir")) {
            runtimeDir = absolute(values.get("runtime-dir"));
        } else if (env.containsKey("SLIPWAY_RUNTIME_DIR")) {
            runtimeDir = absolute(env.get("SLIPWAY_RUNTIME_DIR"));
        } else if (env.containsKey("SLIPWAY_HOME")) {
            runtimeDir = home.resolve("run");
        } else if (env.get("XDG_RUNTIME_DIR") != null && !env.get("XDG_RUNTIME_DIR").isBlank()) {
            runtimeDir = absolute(env.get("XDG_RUNTIME_DIR")).resolve("slipway");
        } else {
            runtimeDir = home.resolve("run");
        }
        Path dist = absolute(values.getOrDefault("dist", defaultDist.toString()));
        Path bndrun = values.containsKey("bndrun") ? absolute(values.get("bndrun")) : dist.resolve("conf/slipway.bndrun");
        String name = values.getOrDefault("name", "slipway");
        boolean watch = !"true".equals(values.get("no-watch"));
        return new LaunchOptions(name, home, runtimeDir, dist, bndrun, watch, Map.copyOf(properties), command);
    }

    private static Path absolute(String path) {
        return Path.of(path).toAbsolutePath().normalize();
    }
}

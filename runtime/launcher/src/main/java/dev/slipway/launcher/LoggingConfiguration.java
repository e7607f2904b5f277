package dev.slipway.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * One logging configuration per process: {@code conf/NAME.logging.properties} of the distribution
 * ({@code slipway} for the runtime, {@code helper} for the privileged helper), then
 * {@code SLIPWAY_LOG}, under the JVM's own {@code -D} settings. slf4j's simple provider reads system
 * properties once, when the first logger is made, so this runs before anything logs.
 */
final class LoggingConfiguration {

    static final String PREFIX = "org.slf4j.simpleLogger.";
    static final String ENVIRONMENT = "SLIPWAY_LOG";

    private LoggingConfiguration() {
    }

    /**
     * The settings for a process, without those the JVM was already given.
     *
     * @throws IllegalArgumentException for a {@code SLIPWAY_LOG} that is neither a level nor
     *         {@code LOGGER=LEVEL} pairs
     */
    static Map<String, String> settings(Path file, String environment, Properties system) throws IOException {
        Map<String, String> settings = new LinkedHashMap<>();
        Properties fromFile = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            fromFile.load(in);
        } catch (NoSuchFileException absent) {
            // a distribution without one logs with the provider's defaults
        }
        for (String key : fromFile.stringPropertyNames()) {
            if (key.startsWith(PREFIX)) {
                settings.put(key, fromFile.getProperty(key).strip());
            }
        }
        if (environment != null && !environment.isBlank()) {
            for (String part : environment.split(",")) {
                String p = part.strip();
                int eq = p.indexOf('=');
                String logger = eq < 0 ? null : p.substring(0, eq).strip();
                String level = (eq < 0 ? p : p.substring(eq + 1)).strip().toLowerCase(java.util.Locale.ROOT);
                if (!level.matches("trace|debug|info|warn|error|off") || (logger != null && !logger.matches("[A-Za-z0-9_.$]+"))) {
                    throw new IllegalArgumentException(ENVIRONMENT + ": '" + p
                            + "' is neither a level (trace, debug, info, warn, error, off) nor LOGGER=LEVEL");
                }
                settings.put(logger == null ? PREFIX + "defaultLogLevel" : PREFIX + "log." + logger, level);
            }
        }
        settings.keySet().removeIf(system::containsKey);
        return settings;
    }

    static void apply(Path file, String environment) throws IOException {
        settings(file, environment, System.getProperties()).forEach(System::setProperty);
    }
}

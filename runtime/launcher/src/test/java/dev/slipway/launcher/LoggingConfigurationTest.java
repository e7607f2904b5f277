package dev.slipway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoggingConfigurationTest {

    @TempDir
    Path dir;

    @Test
    void theProcessFileSetsTheProviderAndOtherKeysAreIgnored() throws Exception {
        Path file = Files.writeString(dir.resolve("slipway.logging.properties"),
                "org.slf4j.simpleLogger.log.org.eclipse.jetty=warn\nsomething.else=1\n");
        Map<String, String> s = LoggingConfiguration.settings(file, null, new Properties());
        assertEquals(Map.of("org.slf4j.simpleLogger.log.org.eclipse.jetty", "warn"), s);
    }

    @Test
    void theEnvironmentSetsTheDefaultLevelOrSingleLoggersOverTheFile() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "org.slf4j.simpleLogger.log.org.eclipse.jetty=warn\n");
        Map<String, String> s = LoggingConfiguration.settings(file, "DEBUG, org.eclipse.jetty=info", new Properties());
        assertEquals("debug", s.get("org.slf4j.simpleLogger.defaultLogLevel"));
        assertEquals("info", s.get("org.slf4j.simpleLogger.log.org.eclipse.jetty"));
    }

    @Test
    void whatTheJvmWasGivenWins() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "org.slf4j.simpleLogger.defaultLogLevel=info\n");
        Properties system = new Properties();
        system.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "error");
        assertFalse(LoggingConfiguration.settings(file, "debug", system).containsKey("org.slf4j.simpleLogger.defaultLogLevel"));
    }

    @Test
    void aMissingFileMeansTheProviderDefaults() throws Exception {
        assertTrue(LoggingConfiguration.settings(dir.resolve("absent"), null, new Properties()).isEmpty());
    }

    @Test
    void aBadEnvironmentValueIsRefusedWithWhatWasExpected() {
        for (String bad : new String[] {"loud", "org.eclipse.jetty=", "a b=info", "=info"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LoggingConfiguration.settings(dir.resolve("absent"), bad, new Properties()), bad);
            assertTrue(e.getMessage().contains("SLIPWAY_LOG"), e.getMessage());
        }
    }
}

package dev.slipway.control;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;

import dev.slipway.api.platform.Platform;

class PlatformStatusTest {

    private final FakeContext framework = new FakeContext(
            new FakeBundle(0, "org.apache.felix.framework", "7.0.5", Bundle.ACTIVE),
            new FakeBundle(12, "dev.slipway.platform.linux", "0.1.0.SNAPSHOT", Bundle.ACTIVE));

    private static final Platform LINUX = new Platform() {
        public String osName() { return "linux"; }
        public Path hostsFile() { return Path.of("/etc/hosts"); }
        public Path helperSocket() { return Path.of("/run/slipway-helper.sock"); }
        public Path userBinDir() { return Path.of("/home/u/.local/bin"); }
        public Path systemBinDir() { return Path.of("/usr/local/bin"); }
        public Path systemInstallDir() { return Path.of("/opt/slipway"); }
        public Path userInstallDir() { return Path.of("/home/u/.slipway"); }
        public Path runtimeDir() { return Path.of("/run/user/1000/slipway"); }
    };

    @Test
    void withoutAPlatformServiceThePlatformIsUnavailable() {
        assertEquals(Map.of("available", false), new PlatformStatus(framework.context()).status());
    }

    @Test
    void theBoundPlatformIsDescribedWithTheBundleThatProvidesIt() {
        PlatformStatus status = new PlatformStatus(framework.context());
        status.platform = Map.entry(Map.of(Constants.SERVICE_BUNDLEID, 12L), LINUX);
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("available", true);
        expected.put("bundle", "dev.slipway.platform.linux");
        expected.put("bundleVersion", "0.1.0.SNAPSHOT");
        expected.put("bundleId", 12L);
        expected.put("os", "linux");
        expected.put("hostsFile", "/etc/hosts");
        expected.put("helperSocket", "/run/slipway-helper.sock");
        expected.put("runtimeDir", "/run/user/1000/slipway");
        expected.put("userBinDir", "/home/u/.local/bin");
        expected.put("systemBinDir", "/usr/local/bin");
        assertEquals(expected, status.status());
    }

    @Test
    void aPlatformWhoseBundleIsGoneIsStillDescribedWithoutIt() {
        PlatformStatus status = new PlatformStatus(framework.context());
        status.platform = Map.entry(Map.of(Constants.SERVICE_BUNDLEID, 99L), LINUX);
        Map<?, ?> described = (Map<?, ?>) status.status();
        assertEquals(true, described.get("available"));
        assertEquals("linux", described.get("os"));
        assertEquals(false, described.containsKey("bundle"));
    }

    @Test
    void aHotSwappedPlatformShowsAtOnce() {
        PlatformStatus status = new PlatformStatus(framework.context());
        status.platform = Map.entry(Map.of(Constants.SERVICE_BUNDLEID, 12L), LINUX);
        assertEquals(true, ((Map<?, ?>) status.status()).get("available"));
        status.platform = null;
        assertEquals(Map.of("available", false), status.status());
    }
}

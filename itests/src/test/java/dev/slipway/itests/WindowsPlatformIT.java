package dev.slipway.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

import dev.slipway.api.platform.Platform;

/** With the framework told it runs on Windows, platform-windows alone resolves and reports Windows's real locations. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class WindowsPlatformIT {

    @Inject
    private BundleContext context;

    @Inject
    private Platform platform;

    @Configuration
    public Option[] config() {
        return SlipwayRuntimeOptions.runtime(Map.of("org.osgi.framework.os.name", "Windows 11"));
    }

    @Test
    public void onlyTheWindowsPlatformResolves() {
        assertEquals(Bundle.ACTIVE, PlatformBundles.state(context, "dev.slipway.platform.windows"));
        assertEquals(Bundle.INSTALLED, PlatformBundles.state(context, "dev.slipway.platform.linux"));
        assertEquals(Bundle.INSTALLED, PlatformBundles.state(context, "dev.slipway.platform.macos"));
        // the Linux natives stay unresolved; their importers import them optionally and still start
        assertEquals(Bundle.INSTALLED, PlatformBundles.state(context, "dev.slipway.platform.linux.natives"));
        for (String importer : new String[] {"dev.slipway.networking.stack", "dev.slipway.networking.ports", "dev.slipway.helperclient"}) {
            assertEquals(importer, Bundle.ACTIVE, PlatformBundles.state(context, importer));
        }
    }

    @Test
    public void reportsWindowsLocations() {
        assertEquals("windows", platform.osName());
        String env = System.getenv("SystemRoot");
        String systemRoot = env == null ? "C:\\Windows" : env;
        assertEquals(systemRoot + "\\System32\\drivers\\etc\\hosts", platform.hostsFile().toString());
        assertTrue(platform.helperSocket().toString(), platform.helperSocket().toString().endsWith("\\Slipway\\helper.sock"));
        assertTrue(platform.systemInstallDir().toString(), platform.systemInstallDir().toString().endsWith("\\Slipway"));
        assertTrue(platform.userInstallDir().toString(), platform.userInstallDir().toString().endsWith("\\Programs\\Slipway"));
    }
}

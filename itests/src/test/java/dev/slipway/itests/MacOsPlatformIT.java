package dev.slipway.itests;

import static org.junit.Assert.assertEquals;

import java.nio.file.Path;
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

/** With the framework told it runs on macOS, platform-macos alone resolves and reports macOS's real locations. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class MacOsPlatformIT {

    @Inject
    private BundleContext context;

    @Inject
    private Platform platform;

    @Configuration
    public Option[] config() {
        return SlipwayRuntimeOptions.runtime(Map.of("org.osgi.framework.os.name", "Mac OS X"));
    }

    @Test
    public void onlyTheMacOsPlatformResolves() {
        assertEquals(Bundle.ACTIVE, PlatformBundles.state(context, "dev.slipway.platform.macos"));
        assertEquals(Bundle.INSTALLED, PlatformBundles.state(context, "dev.slipway.platform.linux"));
        assertEquals(Bundle.INSTALLED, PlatformBundles.state(context, "dev.slipway.platform.windows"));
        // the Linux natives stay unresolved; their importers import them optionally and still start
        assertEquals(Bundle.INSTALLED, PlatformBundles.state(context, "dev.slipway.platform.linux.natives"));
        for (String importer : new String[] {"dev.slipway.networking.stack", "dev.slipway.networking.ports", "dev.slipway.helperclient"}) {
            assertEquals(importer, Bundle.ACTIVE, PlatformBundles.state(context, importer));
        }
    }

    @Test
    public void reportsMacOsLocations() {
        assertEquals("macos", platform.osName());
        assertEquals(Path.of("/private/etc/hosts"), platform.hostsFile());
        assertEquals(Path.of("/var/run/dev.slipway.helper.server.sock"), platform.helperSocket());
        assertEquals(Path.of("/usr/local/bin"), platform.systemBinDir());
        assertEquals(Path.of("/Applications/Slipway.app"), platform.systemInstallDir());
        assertEquals(Path.of(context.getProperty("user.home"), ".slipway/bin"), platform.userBinDir());
    }
}

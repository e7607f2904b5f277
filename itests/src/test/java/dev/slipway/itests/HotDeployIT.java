package dev.slipway.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import javax.inject.Inject;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.OptionUtils;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Version;

import dev.slipway.api.platform.Platform;

/**
 * The hot-swap path users rely on: a newer platform bundle dropped into deploy/ (watched by
 * fileinstall) replaces the running one; removing it restores the original.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotDeployIT {

    private static final Path DEPLOY = createDeployDir();

    @Inject
    private BundleContext context;

    private static Path createDeployDir() {
        try {
            return Files.createTempDirectory("slipway-deploy-");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Configuration
    public Option[] config() {
        return OptionUtils.combine(SlipwayRuntimeOptions.runtime(Map.of(
                        "felix.fileinstall.dir", DEPLOY.toString(),
                        "felix.fileinstall.poll", "200",
                        "felix.fileinstall.noInitialDelay", "true",
                        "felix.fileinstall.bundles.new.start", "false")));
    }

    @Test
    public void aNewerBundleInDeployReplacesTheRunningOneAndRemovingItRestoresTheOriginal() throws Exception {
        Version original = PlatformBundles.find(context, "dev.slipway.platform.linux").getVersion();
        Path deployDir = Path.of(context.getProperty("felix.fileinstall.dir"));
        Path staged = NewerBundle.withVersion(NewerBundle.distJar("dev.slipway.platform.linux"), "0.1.2",
                Files.createTempFile("platform-linux-", ".jar"));
        Path deployed = deployDir.resolve("dev.slipway.platform.linux-0.1.2.jar");
        Files.move(staged, deployed);

        Map<String, Object> status = Consumers.awaitPlatformStatusVersion(context, "0.1.2", 20);
        assertEquals("linux", status.get("os"));
        assertEquals(Version.parseVersion("0.1.2"), context.getServiceReference(Platform.class).getBundle().getVersion());
        // the consumer rebinds as soon as the new bundle's service appears; the old revision goes right after
        Consumers.await(() -> Arrays.stream(context.getBundles())
                .filter(b -> "dev.slipway.platform.linux".equals(b.getSymbolicName())).count() == 1 ? Boolean.TRUE : null, 20);
        assertEquals("only the new version is installed", 1, Arrays.stream(context.getBundles())
                .filter(b -> "dev.slipway.platform.linux".equals(b.getSymbolicName())).count());

        Files.delete(deployed);
        Consumers.awaitPlatformStatusVersion(context, original.toString(), 20);
        Bundle restored = PlatformBundles.find(context, "dev.slipway.platform.linux");
        assertEquals(original, restored.getVersion());
        assertTrue(restored.getState() == Bundle.ACTIVE);
    }
}

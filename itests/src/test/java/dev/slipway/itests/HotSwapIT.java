package dev.slipway.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
import org.osgi.framework.Version;
import org.osgi.framework.wiring.BundleRevisions;
import org.osgi.framework.wiring.FrameworkWiring;

import dev.slipway.api.platform.Platform;

/** A newer platform bundle, built in the test, replaces the running one: consumers rebind, the old revision goes. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class HotSwapIT {

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return SlipwayRuntimeOptions.runtime(Map.of());
    }

    @Test
    public void aNewerPlatformBundleReplacesTheRunningOneAndConsumersRebind() throws Exception {
        Bundle platform = PlatformBundles.find(context, "dev.slipway.platform.linux");
        Version before = platform.getVersion();
        assertEquals(before.toString(), Consumers.platformStatus(context).get("bundleVersion"));

        Path newer = NewerBundle.withVersion(NewerBundle.distJar("dev.slipway.platform.linux"), "0.1.1",
                Files.createTempFile("platform-linux-", ".jar"));
        try (InputStream in = Files.newInputStream(newer)) {
            platform.update(in);
        }
        CountDownLatch refreshed = new CountDownLatch(1);
        context.getBundle(0).adapt(FrameworkWiring.class).refreshBundles(List.of(platform), e -> refreshed.countDown());
        assertEquals(true, refreshed.await(30, TimeUnit.SECONDS));

        assertEquals(Version.parseVersion("0.1.1"), platform.getVersion());
        assertEquals(Bundle.ACTIVE, platform.getState());
        assertEquals("the old revision is gone after the refresh", 1, platform.adapt(BundleRevisions.class).getRevisions().size());
        Bundle provider = Consumers.await(() -> context.getServiceReference(Platform.class), 10).getBundle();
        assertEquals(Version.parseVersion("0.1.1"), provider.getVersion());
        Map<String, Object> status = Consumers.awaitPlatformStatusVersion(context, "0.1.1", 10);
        assertEquals("linux", status.get("os"));
        assertNotEquals(before.toString(), status.get("bundleVersion"));
    }
}

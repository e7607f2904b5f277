package dev.slipway.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
import org.osgi.framework.Constants;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import dev.slipway.api.platform.Platform;

/** The runtime's bundle set on this (Linux) machine: everything active, every component satisfied, only platform-linux. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RuntimeIT {

    @Inject
    private BundleContext context;

    @Inject
    private ServiceComponentRuntime scr;

    @Inject
    private Platform platform;

    @Configuration
    public Option[] config() {
        return SlipwayRuntimeOptions.runtime(Map.of());
    }

    @Test
    public void everyBundleOfTheRuntimeIsActiveExceptOtherPlatforms() {
        List<String> notActive = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            String name = bundle.getSymbolicName();
            boolean fragment = bundle.getHeaders("").get(Constants.FRAGMENT_HOST) != null;
            boolean otherPlatform = name.equals("dev.slipway.platform.macos") || name.equals("dev.slipway.platform.windows");
            if (otherPlatform) {
                assertEquals(name + " must not resolve on Linux", Bundle.INSTALLED, bundle.getState());
            } else if (!fragment && bundle.getState() != Bundle.ACTIVE) {
                notActive.add(name + " state " + bundle.getState());
            }
        }
        assertTrue("not active: " + notActive, notActive.isEmpty());
    }

    @Test
    public void everyComponentIsSatisfied() {
        List<String> unsatisfied = new ArrayList<>();
        for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
            for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                if (configuration.state != ComponentConfigurationDTO.ACTIVE && configuration.state != ComponentConfigurationDTO.SATISFIED
                        && configuration.state != ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION) {
                    unsatisfied.add(description.name + " state " + configuration.state + " " + configuration.failure);
                }
            }
        }
        assertTrue("unsatisfied: " + unsatisfied, unsatisfied.isEmpty());
        assertFalse("no components found", scr.getComponentDescriptionDTOs().isEmpty());
    }

    @Test
    public void onlyTheLinuxPlatformResolvesAndReportsLinuxPaths() throws Exception {
        assumeTrue("this test runs on Linux", System.getProperty("os.name").toLowerCase().contains("linux"));
        assertEquals("linux", platform.osName());
        assertEquals(Path.of("/etc/hosts"), platform.hostsFile());
        assertEquals(Path.of("/run/slipway/helper.sock"), platform.helperSocket());
        assertEquals(Path.of("/usr/local/bin"), platform.systemBinDir());
        assertEquals(Path.of(context.getProperty("slipway.runtime.dir")), platform.runtimeDir());
        assertEquals("exactly one Platform service", 1, context.getServiceReferences(Platform.class, null).size());
        Bundle provider = context.getServiceReference(Platform.class).getBundle();
        assertNotNull(provider);
        assertEquals("dev.slipway.platform.linux", provider.getSymbolicName());
    }
}

package dev.slipway.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
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

import dev.slipway.api.control.ControlCommand;
import dev.slipway.api.control.StatusContributor;

/**
 * Enterprise add-ons are just more bundles: the Registry Access Management add-on, shipped in the
 * distribution but not in the runtime's bundle set, is installed into the running runtime, serves
 * its command and status section, and is removed again without disturbing anything else.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RegistryAccessAddOnIT {

    private static final String ADD_ON = "dev.slipway.addons.registryaccess";

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return SlipwayRuntimeOptions.runtime(Map.of());
    }

    @Test
    public void theAddOnInstallsAndUninstallsLive() throws Exception {
        assertFalse("the add-on is not part of the base runtime",
                Arrays.stream(context.getBundles()).anyMatch(b -> ADD_ON.equals(b.getSymbolicName())));
        Bundle addOn = context.installBundle("reference:" + NewerBundle.distJar(ADD_ON).toUri());
        addOn.start();
        assertEquals(Bundle.ACTIVE, addOn.getState());
        Consumers.await(() -> commands().stream().findFirst().orElse(null), 10);
        assertTrue(status().contains("registryAccess"));

        addOn.uninstall();
        assertTrue("its command is gone", commands().isEmpty());
        assertFalse(status().contains("registryAccess"));
        assertEquals("linux", Consumers.platformStatus(context).get("os"));
    }

    private java.util.Collection<org.osgi.framework.ServiceReference<ControlCommand>> commands() {
        try {
            return context.getServiceReferences(ControlCommand.class, "(" + ControlCommand.NAME + "=registry-access)");
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private String status() throws Exception {
        StringBuilder keys = new StringBuilder();
        for (var ref : context.getServiceReferences(StatusContributor.class, null)) {
            keys.append(ref.getProperty(StatusContributor.KEY)).append(' ');
        }
        return keys.toString();
    }
}

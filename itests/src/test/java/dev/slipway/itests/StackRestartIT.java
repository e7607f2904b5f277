package dev.slipway.itests;

import static org.junit.Assert.fail;

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
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * The stack and the transparent proxy need each other (the stack routes through the proxy, the
 * proxy serves the stack's network), so the order in which their bundles start must not matter:
 * the stack started after the proxy, as when a newer stack waits in deploy/ at start or replaces
 * the running one, leaves every component of both active.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class StackRestartIT {

    @Inject
    private BundleContext context;

    @Inject
    private ServiceComponentRuntime scr;

    @Configuration
    public Option[] config() {
        return SlipwayRuntimeOptions.runtime(Map.of("slipway.netns", "none"));
    }

    @Test
    public void theStackStartedAfterTheProxyLeavesBothActive() throws Exception {
        Bundle stack = bundle("dev.slipway.networking.stack");
        for (int i = 0; i < 5; i++) {
            stack.stop();
            stack.start();
            try {
                Consumers.await(() -> notActive("dev.slipway.networking.stack", "dev.slipway.networking.proxy").isEmpty()
                        && proxyMade() ? true : null, 10);
            } catch (AssertionError timedOut) {
                fail("restart " + (i + 1) + ": the proxy " + (proxyMade() ? "made" : "not made") + "; components not active: " + notActive("dev.slipway.networking.stack",
                        "dev.slipway.networking.proxy"));
            }
        }
    }

    /** The stack got its router: the proxy, a delayed component, was made. */
    private boolean proxyMade() {
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(bundle("dev.slipway.networking.proxy"))) {
            if (d.name.equals("dev.slipway.networking.proxy.TransparentProxy")) {
                for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                    return c.state == ComponentConfigurationDTO.ACTIVE;
                }
            }
        }
        return false;
    }

    private Bundle bundle(String name) {
        for (Bundle b : context.getBundles()) {
            if (name.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError(name + " is not installed");
    }

    private List<String> notActive(String... bundles) {
        List<String> out = new ArrayList<>();
        for (String name : bundles) {
            for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(bundle(name))) {
                for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                    if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION || c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE
                            || c.state == ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION) {
                        out.add(d.name + " " + c.state + (c.failure == null ? "" : ": " + c.failure.lines().findFirst().orElse("")));
                    }
                }
            }
        }
        return out;
    }
}

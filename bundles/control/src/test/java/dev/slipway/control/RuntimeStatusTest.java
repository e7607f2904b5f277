package dev.slipway.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.dto.BundleDTO;
import org.osgi.framework.namespace.NativeNamespace;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

import dev.slipway.testing.Fake;

class RuntimeStatusTest {

    private final FakeBundle framework = new FakeBundle(0, "org.apache.felix.framework", "7.0.5", Bundle.ACTIVE);
    private final FakeScr scr = new FakeScr();

    private Map<String, Object> snapshot(FakeBundle... others) {
        List<FakeBundle> all = new ArrayList<>(List.of(framework));
        all.addAll(List.of(others));
        return new RuntimeStatus(new FakeContext(all.toArray(FakeBundle[]::new)).context()).snapshot(scr.service());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> bundle(Map<String, Object> status, String symbolicName) {
        return ((List<Map<String, Object>>) status.get("bundles")).stream()
                .filter(b -> symbolicName.equals(b.get("symbolicName"))).findFirst().orElseThrow();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> component(Map<String, Object> status, String name) {
        return ((List<Map<String, Object>>) status.get("components")).stream()
                .filter(c -> name.equals(c.get("name"))).findFirst().orElseThrow();
    }

    // --- bundles ---

    @Test
    void readyWhenTheFrameworkEveryBundleAndEveryComponentAreActive() {
        scr.add("dev.slipway.control.ControlServer", "dev.slipway.control", true, configuration(ComponentConfigurationDTO.ACTIVE));
        scr.add("dev.slipway.control.PlatformStatus", "dev.slipway.control", true, configuration(ComponentConfigurationDTO.SATISFIED));
        Map<String, Object> status = snapshot(new FakeBundle(5, "dev.slipway.control", "0.1.0.SNAPSHOT", Bundle.ACTIVE));
        assertEquals(true, status.get("ready"));
        assertEquals(ProcessHandle.current().pid(), status.get("pid"));
        assertEquals(Map.of("id", 5L, "symbolicName", "dev.slipway.control", "version", "0.1.0.SNAPSHOT", "state", "ACTIVE"),
                bundle(status, "dev.slipway.control"));
        assertEquals("ACTIVE", component(status, "dev.slipway.control.ControlServer").get("state"));
        assertEquals("SATISFIED", component(status, "dev.slipway.control.PlatformStatus").get("state"));
        assertEquals("dev.slipway.control", component(status, "dev.slipway.control.PlatformStatus").get("bundle"));
    }

    @Test
    void notReadyWhileTheFrameworkIsStillStarting() {
        framework.state = Bundle.STARTING;
        Map<String, Object> status = snapshot();
        assertEquals(false, status.get("ready"));
        assertEquals("STARTING", bundle(status, "org.apache.felix.framework").get("state"));
    }

    @Test
    void aResolvedBundleIsNotReadyButAResolvedFragmentIs() {
        assertEquals(true, snapshot(new FakeBundle(3, "dev.slipway.fragment", "1.0.0", Bundle.RESOLVED).fragmentOf("dev.slipway.host"))
                .get("ready"));
        Map<String, Object> status = snapshot(new FakeBundle(3, "dev.slipway.fragment", "1.0.0", Bundle.RESOLVED).fragmentOf("dev.slipway.host"),
                new FakeBundle(4, "dev.slipway.lazy", "1.0.0", Bundle.RESOLVED));
        assertEquals(false, status.get("ready"));
        assertEquals(true, bundle(status, "dev.slipway.fragment").get("fragment"));
        assertNull(bundle(status, "dev.slipway.lazy").get("fragment"));
    }

    @Test
    void anUnresolvedBundleListsTheMandatoryRequirementsNothingProvides() {
        FakeBundle exporter = new FakeBundle(2, "dev.slipway.api", "0.1.0", Bundle.ACTIVE)
                .withRevision(revision(List.of(capability(PackageNamespace.PACKAGE_NAMESPACE, Map.of("osgi.wiring.package", "dev.slipway.api.control"))),
                        List.of()));
        FakeBundle broken = new FakeBundle(7, "dev.slipway.broken", "1.0.0", Bundle.INSTALLED).withRevision(revision(List.of(), List.of(
                requirement(PackageNamespace.PACKAGE_NAMESPACE, "(osgi.wiring.package=dev.slipway.api.control)", false),
                requirement(PackageNamespace.PACKAGE_NAMESPACE, "(osgi.wiring.package=org.missing)", false),
                requirement(PackageNamespace.PACKAGE_NAMESPACE, "(osgi.wiring.package=org.optional)", true))));
        Map<String, Object> status = snapshot(exporter, broken);
        assertEquals(false, status.get("ready"));
        assertEquals(List.of("osgi.wiring.package; (osgi.wiring.package=org.missing)"), bundle(status, "dev.slipway.broken").get("missing"));
        assertNull(bundle(status, "dev.slipway.broken").get("otherPlatform"));
    }

    @Test
    void aBundleMissingOnlyNativeCodeBelongsToAnotherPlatformAndDoesNotCountAgainstReadiness() {
        FakeBundle macos = new FakeBundle(8, "dev.slipway.platform.macos", "0.1.0", Bundle.INSTALLED).withRevision(revision(List.of(),
                List.of(requirement(NativeNamespace.NATIVE_NAMESPACE, "(osgi.native.osname~=macosx)", false))));
        Map<String, Object> status = snapshot(macos);
        assertEquals(true, status.get("ready"));
        assertEquals(true, bundle(status, "dev.slipway.platform.macos").get("otherPlatform"));
        assertEquals(List.of("osgi.native; (osgi.native.osname~=macosx)"), bundle(status, "dev.slipway.platform.macos").get("missing"));
    }

    @Test
    void anInstalledBundleWithNothingMissingIsStillNotReady() {
        Map<String, Object> status = snapshot(new FakeBundle(9, "dev.slipway.idle", "1.0.0", Bundle.INSTALLED)
                .withRevision(revision(List.of(), List.of())));
        assertEquals(false, status.get("ready"));
        assertEquals(List.of(), bundle(status, "dev.slipway.idle").get("missing"));
    }

    @Test
    void aRequirementWithAMalformedFilterCountsAsMissing() {
        FakeBundle odd = new FakeBundle(9, "dev.slipway.odd", "1.0.0", Bundle.INSTALLED).withRevision(revision(List.of(),
                List.of(requirement(PackageNamespace.PACKAGE_NAMESPACE, "(osgi.wiring.package=", false))));
        assertEquals(List.of("osgi.wiring.package; (osgi.wiring.package="), bundle(snapshot(odd), "dev.slipway.odd").get("missing"));
    }

    @Test
    void everyBundleStateHasItsName() {
        assertEquals("UNINSTALLED", RuntimeStatus.stateName(Bundle.UNINSTALLED));
        assertEquals("INSTALLED", RuntimeStatus.stateName(Bundle.INSTALLED));
        assertEquals("RESOLVED", RuntimeStatus.stateName(Bundle.RESOLVED));
        assertEquals("STARTING", RuntimeStatus.stateName(Bundle.STARTING));
        assertEquals("STOPPING", RuntimeStatus.stateName(Bundle.STOPPING));
        assertEquals("ACTIVE", RuntimeStatus.stateName(Bundle.ACTIVE));
        assertEquals("UNKNOWN(3)", RuntimeStatus.stateName(3));
    }

    // --- components ---

    @Test
    void aComponentWaitingForAReferenceIsNotReadyAndNamesWhatItWaitsFor() {
        ComponentConfigurationDTO waiting = configuration(ComponentConfigurationDTO.UNSATISFIED_REFERENCE);
        UnsatisfiedReferenceDTO reference = new UnsatisfiedReferenceDTO();
        reference.name = "platform";
        reference.target = "(os=linux)";
        waiting.unsatisfiedReferences = new UnsatisfiedReferenceDTO[] {reference};
        scr.add("dev.slipway.helper.vm.VmManager", "dev.slipway.helper.vm", true, waiting);
        Map<String, Object> status = snapshot();
        assertEquals(false, status.get("ready"));
        Map<String, Object> vm = component(status, "dev.slipway.helper.vm.VmManager");
        assertEquals("UNSATISFIED_REFERENCE", vm.get("state"));
        assertEquals(List.of("platform (os=linux)"), vm.get("unsatisfiedReferences"));
    }

    @Test
    void aComponentThatFailedToActivateIsNotReadyAndShowsTheFirstLineOfItsFailure() {
        ComponentConfigurationDTO failed = configuration(ComponentConfigurationDTO.FAILED_ACTIVATION);
        failed.failure = "java.io.IOException: address in use\n\tat dev.slipway.Thing.activate(Thing.java:1)\n";
        scr.add("dev.slipway.dns.DnsServer", "dev.slipway.dns", true, failed);
        Map<String, Object> status = snapshot();
        assertEquals(false, status.get("ready"));
        assertEquals("FAILED_ACTIVATION", component(status, "dev.slipway.dns.DnsServer").get("state"));
        assertEquals("java.io.IOException: address in use", component(status, "dev.slipway.dns.DnsServer").get("failure"));
    }

    @Test
    void aComponentWithoutConfigurationsWaitsForOneOrIsDisabled() {
        scr.add("dev.slipway.a.Configured", "dev.slipway.a", true);
        scr.add("dev.slipway.a.Disabled", "dev.slipway.a", false);
        Map<String, Object> status = snapshot();
        assertEquals(true, status.get("ready"), "neither waits on a reference nor failed");
        assertEquals("WAITING_FOR_CONFIGURATION", component(status, "dev.slipway.a.Configured").get("state"));
        assertEquals("DISABLED", component(status, "dev.slipway.a.Disabled").get("state"));
        assertEquals(false, component(status, "dev.slipway.a.Disabled").get("enabled"));
    }

    @Test
    void aFactoryComponentShowsTheStateOfEveryConfiguration() {
        scr.add("dev.slipway.f.Factory", "dev.slipway.f", true,
                configuration(ComponentConfigurationDTO.ACTIVE), configuration(ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION));
        assertEquals("ACTIVE,UNSATISFIED_CONFIGURATION", component(snapshot(), "dev.slipway.f.Factory").get("state"));
    }

    @Test
    void withoutAComponentRuntimeNothingIsReady() {
        Map<String, Object> status = new RuntimeStatus(new FakeContext(framework).context()).snapshot(null);
        assertEquals(false, status.get("ready"));
        assertEquals(List.of(), status.get("components"));
    }

    @Test
    void theSnapshotCarriesProcessFacts() {
        Map<String, Object> status = snapshot();
        assertEquals(List.of("ready", "uptimeMs", "pid", "java", "memory", "bundles", "components"), new ArrayList<>(status.keySet()));
        assertEquals(Runtime.version().toString(), status.get("java"));
        assertTrue(((Map<?, ?>) status.get("memory")).containsKey("heapUsedBytes"));
        assertFalse((Long) status.get("uptimeMs") < 0);
    }

    // --- fakes ---

    private static ComponentConfigurationDTO configuration(int state) {
        ComponentConfigurationDTO configuration = new ComponentConfigurationDTO();
        configuration.state = state;
        configuration.unsatisfiedReferences = new UnsatisfiedReferenceDTO[0];
        return configuration;
    }

    private static BundleRevision revision(List<BundleCapability> capabilities, List<BundleRequirement> requirements) {
        return Fake.of(BundleRevision.class, new Object() {
            List<BundleCapability> getDeclaredCapabilities(String namespace) {
                return capabilities.stream().filter(c -> namespace == null || namespace.equals(c.getNamespace())).toList();
            }

            List<BundleRequirement> getDeclaredRequirements(String namespace) {
                return requirements.stream().filter(r -> namespace == null || namespace.equals(r.getNamespace())).toList();
            }
        });
    }

    private static BundleCapability capability(String namespace, Map<String, Object> attributes) {
        return Fake.of(BundleCapability.class, new Object() {
            String getNamespace() {
                return namespace;
            }

            Map<String, Object> getAttributes() {
                return attributes;
            }
        });
    }

    private static BundleRequirement requirement(String namespace, String filter, boolean optional) {
        Map<String, String> directives = new HashMap<>();
        directives.put(Constants.FILTER_DIRECTIVE, filter);
        if (optional) {
            directives.put(Constants.RESOLUTION_DIRECTIVE, Constants.RESOLUTION_OPTIONAL);
        }
        return Fake.of(BundleRequirement.class, new Object() {
            String getNamespace() {
                return namespace;
            }

            Map<String, String> getDirectives() {
                return directives;
            }
        });
    }

    /** The component runtime's answers: descriptions, whether each is enabled, and its configurations. */
    private static final class FakeScr {
        private final Map<ComponentDescriptionDTO, Boolean> enabled = new java.util.LinkedHashMap<>();
        private final Map<ComponentDescriptionDTO, List<ComponentConfigurationDTO>> configurations = new HashMap<>();

        void add(String name, String bundle, boolean isEnabled, ComponentConfigurationDTO... configs) {
            ComponentDescriptionDTO description = new ComponentDescriptionDTO();
            description.name = name;
            description.bundle = new BundleDTO();
            description.bundle.symbolicName = bundle;
            enabled.put(description, isEnabled);
            configurations.put(description, List.of(configs));
        }

        ServiceComponentRuntime service() {
            return Fake.of(ServiceComponentRuntime.class, this);
        }

        Collection<ComponentDescriptionDTO> getComponentDescriptionDTOs(org.osgi.framework.Bundle... bundles) {
            return List.copyOf(enabled.keySet());
        }

        boolean isComponentEnabled(ComponentDescriptionDTO description) {
            return enabled.get(description);
        }

        Collection<ComponentConfigurationDTO> getComponentConfigurationDTOs(ComponentDescriptionDTO description) {
            return configurations.get(description);
        }
    }
}

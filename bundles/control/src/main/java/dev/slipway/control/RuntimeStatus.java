package dev.slipway.control;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.namespace.NativeNamespace;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * Computes the runtime's state for {@code slipway status}: every bundle with its state (and, when
 * it did not resolve, the requirements nothing provides), every DS component, and readiness.
 * A bundle whose only missing requirement is {@code osgi.native} belongs to another OS and does
 * not count against readiness.
 */
final class RuntimeStatus {

    private final BundleContext context;

    RuntimeStatus(BundleContext context) {
        this.context = context;
    }

    Map<String, Object> snapshot(ServiceComponentRuntime scr) {
        boolean ready = context.getBundle(0).getState() == Bundle.ACTIVE;
        List<Map<String, Object>> bundles = new ArrayList<>();
        for (Bundle bundle : context.getBundles()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("id", bundle.getBundleId());
            entry.put("symbolicName", bundle.getSymbolicName());
            entry.put("version", bundle.getVersion().toString());
            entry.put("state", stateName(bundle.getState()));
            boolean fragment = bundle.getHeaders("").get(Constants.FRAGMENT_HOST) != null;
            if (fragment) {
                entry.put("fragment", true);
            }
            if (bundle.getState() == Bundle.INSTALLED) {
                List<String> missing = missingRequirements(bundle);
                entry.put("missing", missing);
                boolean otherPlatform = !missing.isEmpty() && missing.stream().allMatch(m -> m.startsWith(NativeNamespace.NATIVE_NAMESPACE));
                if (otherPlatform) {
                    entry.put("otherPlatform", true);
                } else {
                    ready = false;
                }
            } else if (bundle.getState() != Bundle.ACTIVE && !(fragment && bundle.getState() == Bundle.RESOLVED)) {
                ready = false;
            }
            bundles.add(entry);
        }
        List<Map<String, Object>> components = new ArrayList<>();
        if (scr == null) {
            ready = false;
        } else {
            for (ComponentDescriptionDTO description : scr.getComponentDescriptionDTOs()) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("name", description.name);
                entry.put("bundle", description.bundle.symbolicName);
                boolean enabled = scr.isComponentEnabled(description);
                List<String> states = new ArrayList<>();
                List<String> unsatisfied = new ArrayList<>();
                for (ComponentConfigurationDTO configuration : scr.getComponentConfigurationDTOs(description)) {
                    states.add(componentState(configuration.state));
                    if (configuration.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE
                            || configuration.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                        ready = false;
                    }
                    for (UnsatisfiedReferenceDTO reference : configuration.unsatisfiedReferences) {
                        unsatisfied.add(reference.name + " " + reference.target);
                    }
                    if (configuration.failure != null) {
                        entry.put("failure", configuration.failure.lines().findFirst().orElse(""));
                    }
                }
                entry.put("enabled", enabled);
                entry.put("state", states.isEmpty() ? (enabled ? "WAITING_FOR_CONFIGURATION" : "DISABLED") : String.join(",", states));
                if (!unsatisfied.isEmpty()) {
                    entry.put("unsatisfiedReferences", unsatisfied);
                }
                components.add(entry);
            }
        }
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("ready", ready);
        status.put("uptimeMs", ManagementFactory.getRuntimeMXBean().getUptime());
        status.put("pid", ProcessHandle.current().pid());
        status.put("java", Runtime.version().toString());
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
        status.put("memory", Map.of("heapUsedBytes", heap.getUsed(), "heapCommittedBytes", heap.getCommitted(),
                "nonHeapUsedBytes", nonHeap.getUsed()));
        status.put("bundles", bundles);
        status.put("components", components);
        return status;
    }

    /** The declared, mandatory requirements of an unresolved bundle that no installed revision provides. */
    List<String> missingRequirements(Bundle bundle) {
        List<String> missing = new ArrayList<>();
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        if (revision == null) {
            return missing;
        }
        for (BundleRequirement requirement : revision.getDeclaredRequirements(null)) {
            if (Constants.RESOLUTION_OPTIONAL.equals(requirement.getDirectives().get(Constants.RESOLUTION_DIRECTIVE))) {
                continue;
            }
            String filter = requirement.getDirectives().get(Constants.FILTER_DIRECTIVE);
            if (!isProvided(requirement.getNamespace(), filter)) {
                missing.add(requirement.getNamespace() + "; " + filter);
            }
        }
        return missing;
    }

    private boolean isProvided(String namespace, String filterText) {
        Filter filter;
        try {
            filter = filterText == null ? null : FrameworkUtil.createFilter(filterText);
        } catch (InvalidSyntaxException e) {
            return false;
        }
        for (Bundle candidate : context.getBundles()) {
            BundleRevision revision = candidate.adapt(BundleRevision.class);
            if (revision == null) {
                continue;
            }
            for (BundleCapability capability : revision.getDeclaredCapabilities(namespace)) {
                if (filter == null || filter.matches(capability.getAttributes())) {
                    return true;
                }
            }
        }
        return false;
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "UNKNOWN(" + state + ")";
        };
    }

    private static String componentState(int state) {
        return switch (state) {
            case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> "UNSATISFIED_CONFIGURATION";
            case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> "UNSATISFIED_REFERENCE";
            case ComponentConfigurationDTO.SATISFIED -> "SATISFIED";
            case ComponentConfigurationDTO.ACTIVE -> "ACTIVE";
            case ComponentConfigurationDTO.FAILED_ACTIVATION -> "FAILED_ACTIVATION";
            default -> "UNKNOWN(" + state + ")";
        };
    }
}

package dev.slipway.helper.vm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperOperationHandler;
import dev.slipway.api.helper.HelperSchema;
import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.InstallOptions;
import dev.slipway.platform.linux.natives.FileDescriptors;

/** The helper's {@code vm.*} operations, for the one VM {@value HelperSchema#VM_NAME}. */
@Component(property = {
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_CREATE,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_START,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_STOP,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_DESTROY,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_STATUS,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_MOVE_DISK,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_ATTACH_ENGINE,
        HelperOperationHandler.OPERATION + "=" + HelperSchema.VM_ATTACH_NETWORK})
public final class VmOperations implements HelperOperationHandler {

    static final String DEFAULT_VM_DIR = "/var/lib/slipway/vm";

    private final VmManager manager;

    @Activate
    public VmOperations(@Reference HelperSettings settings, @Reference AccountDirectory accounts) {
        this(new VmManager(settings(settings), new QemuBackend(settings.get(HelperSettings.VM_EMULATOR, "qemu-system-x86_64"),
                Path.of("/dev/kvm"), LinuxOnly.root()), accounts, destination -> { }));
    }

    VmOperations(VmManager manager) {
        this.manager = manager;
    }

    static VmManager.Settings settings(HelperSettings s) {
        return new VmManager.Settings(
                Path.of(s.get(HelperSettings.VM_DIR, DEFAULT_VM_DIR)),
                s.get(HelperSettings.VM_KERNEL).map(Path::of),
                s.get(HelperSettings.VM_INITRD).map(Path::of),
                s.get(HelperSettings.VM_CMDLINE, HelperSettings.DEFAULT_VM_CMDLINE),
                Integer.parseInt(s.get(HelperSettings.VM_MEMORY_MB, "1024")),
                Integer.parseInt(s.get(HelperSettings.VM_CPUS, "2")),
                Long.parseLong(s.get(HelperSettings.VM_DISK_GB, "64")) << 30,
                s.get(HelperSettings.VM_ACCEL, "auto"),
                s.get(HelperSettings.USER_VM_SOCKET, HelperSettings.DEFAULT_USER_VM_SOCKET),
                s.get(HelperSettings.GROUP, InstallOptions.DEFAULT_GROUP),
                s.get(HelperSettings.USER),
                diskDirectories(s.get(HelperSettings.VM_DISK_DIRS, "")),
                s.get(HelperSettings.VM_USER));
    }

    /** The install's allow-list of disk directories: absolute, normal paths, comma-separated. */
    static List<Path> diskDirectories(String value) {
        List<Path> dirs = new ArrayList<>();
        for (String part : value.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            Path dir = Path.of(part.strip());
            if (!dir.isAbsolute() || !dir.normalize().equals(dir) || dir.getParent() == null) {
                throw new IllegalArgumentException(HelperSettings.VM_DISK_DIRS + ": " + part.strip()
                        + " is not an absolute, normal directory below /");
            }
            dirs.add(dir);
        }
        return dirs;
    }

    @Override
    public Map<String, Object> handle(HelperCall call) throws HelperException {
        // the schema already allows only this name; checked again so no handler path depends on it
        if (!HelperSchema.VM_NAME.equals(call.params().get(HelperSchema.PARAM_NAME))) {
            throw new HelperException(HelperErrors.INVALID, "the helper manages only " + HelperSchema.VM_NAME);
        }
        return switch (call.operation()) {
            case HelperSchema.VM_CREATE -> manager.create(call.caller());
            case HelperSchema.VM_START -> manager.start(call.caller());
            case HelperSchema.VM_STOP -> manager.stop(call.caller());
            case HelperSchema.VM_DESTROY -> manager.destroy(call.caller());
            case HelperSchema.VM_STATUS -> manager.status();
            case HelperSchema.VM_MOVE_DISK -> manager.moveDisk(destination(call), call.caller());
            case HelperSchema.VM_ATTACH_ENGINE -> passOn(call, manager.attachEngine(call.caller()));
            case HelperSchema.VM_ATTACH_NETWORK -> passOn(call, manager.attachNetwork(call.caller()));
            default -> throw new HelperException(HelperErrors.UNKNOWN_OPERATION, call.operation() + " is not a VM operation");
        };
    }

    /** A new connection to the VM (its engine channel, its network card) goes to the caller on its own connection, never in the JSON. */
    private static Map<String, Object> passOn(HelperCall call, int connection) throws HelperException {
        try {
            call.connection().sendDescriptor(connection);
        } finally {
            FileDescriptors.closeQuietly(connection);
        }
        return Map.of("name", HelperSchema.VM_NAME, "attached", true);
    }

    private static Path destination(HelperCall call) throws HelperException {
        Object value = call.params().get(HelperSchema.PARAM_DESTINATION);
        Optional<String> problem = new HelperSchema.CheckedDirectory(1024).problem(value);
        if (problem.isPresent()) {
            throw new HelperException(HelperErrors.INVALID, "destination " + problem.get());
        }
        return Path.of((String) value);
    }

    @Deactivate
    void deactivate() {
        manager.close();
    }
}

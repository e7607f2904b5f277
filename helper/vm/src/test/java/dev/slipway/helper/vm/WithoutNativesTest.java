package dev.slipway.helper.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.StandardProtocolFamily;
import java.net.URLClassLoader;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.slipway.api.helper.AccountDirectory;
import dev.slipway.api.helper.HelperCall.Caller;
import dev.slipway.api.helper.HelperErrors;
import dev.slipway.api.helper.HelperException;
import dev.slipway.api.helper.HelperSettings;

/**
 * Where the Linux natives bundle is absent (its import is optional, and it resolves on Linux only),
 * the VM manager's classes still load and its component activates, and the operations that need it
 * refuse clearly instead of failing with NoClassDefFoundError. This bundle's classes are loaded
 * again by a loader that hides the natives package.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WithoutNativesTest {

    static final String NATIVES = "dev.slipway.platform.linux.natives.";
    static final Caller CALLER = new Caller(System.getProperty("user.name"), System.getProperty("user.name"));

    /** Loads this bundle's classes itself, from its build output; the natives package is not there. */
    static final class WithoutNatives extends URLClassLoader {
        WithoutNatives() {
            super(new URL[] {VmManager.class.getProtectionDomain().getCodeSource().getLocation()},
                    WithoutNativesTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith(NATIVES)) {
                throw new ClassNotFoundException(name + " (the natives bundle is absent)");
            }
            if (name.startsWith("dev.slipway.helper.vm.")) {
                synchronized (getClassLoadingLock(name)) {
                    Class<?> c = findLoadedClass(name);
                    return c != null ? c : findClass(name);
                }
            }
            return super.loadClass(name, resolve);
        }
    }

    Path root;
    WithoutNatives loader;
    ServerSocketChannel vmSocket;

    @BeforeEach
    void setUp() throws Exception {
        root = TestRoot.create("nn");
        loader = new WithoutNatives();
        // the caller's runtime socket is there: a start gets as far as it would on Linux
        TestRoot.dir(root, ".slipway");
        Path run = TestRoot.dir(root, ".slipway/run");
        vmSocket = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        vmSocket.bind(UnixDomainSocketAddress.of(run.resolve("network.sock")));
    }

    @AfterEach
    void tearDown() throws Exception {
        vmSocket.close();
        loader.close();
        TestRoot.delete(root);
    }

    @Test
    void theOperationsThatNeedItRefuseAsLinuxOnly() throws Exception {
        Object manager = manager();
        assertEquals(loader, manager.getClass().getClassLoader(), "the manager's classes come without the natives package");
        HelperException create = refusal(manager, "create");
        assertTrue(create.getMessage().contains("on Linux only"), create.getMessage());
        HelperException start = refusal(manager, "start");
        assertTrue(start.getMessage().contains("on Linux only"), start.getMessage());
        Method status = manager.getClass().getDeclaredMethod("status");
        status.setAccessible(true);
        assertEquals("absent", ((Map<?, ?>) status.invoke(manager)).get("state"), "status needs no native call");
    }

    @Test
    void theComponentActivates() throws Exception {
        HelperSettings settings = key -> key.equals(HelperSettings.VM_DIR) ? Optional.of(root.resolve("vm").toString())
                : Optional.empty();
        Class<?> operations = loader.loadClass("dev.slipway.helper.vm.VmOperations");
        assertEquals(loader, operations.getClassLoader());
        operations.getConstructor(HelperSettings.class, AccountDirectory.class).newInstance(settings, accounts());
    }

    Object manager() throws Exception {
        Class<?> settingsType = loader.loadClass("dev.slipway.helper.vm.VmManager$Settings");
        Constructor<?> settingsConstructor = settingsType.getDeclaredConstructors()[0];
        settingsConstructor.setAccessible(true);
        Object settings = settingsConstructor.newInstance(root.resolve("vm"), Optional.of(root),
                Optional.of(root), "console=ttyS0", 64, 1, 1L << 20, "tcg", ".slipway/run/vm.sock", "root",
                Optional.empty(), List.of(), Optional.of("nobody"));
        Class<?> backendType = loader.loadClass("dev.slipway.helper.vm.QemuBackend");
        Constructor<?> backendConstructor = backendType.getDeclaredConstructor(String.class, Path.class, boolean.class);
        backendConstructor.setAccessible(true);
        Object backend = backendConstructor.newInstance("qemu-system-x86_64", Path.of("/nonexistent/kvm"), true);
        Class<?> managerType = loader.loadClass("dev.slipway.helper.vm.VmManager");
        Constructor<?> constructor = managerType.getDeclaredConstructor(settingsType,
                loader.loadClass("dev.slipway.helper.vm.VmBackend"), AccountDirectory.class, Consumer.class);
        constructor.setAccessible(true);
        Consumer<Path> none = p -> { };
        return constructor.newInstance(settings, backend, accounts(), none);
    }

    AccountDirectory accounts() {
        return new AccountDirectory() {
            @Override public Set<String> groupMembers(String group) { return Set.of(); }
            @Override public boolean groupExists(String group) { return true; }
            @Override public Optional<Path> homeDirectory(String user) { return Optional.of(root); }
        };
    }

    static HelperException refusal(Object manager, String operation) throws Exception {
        Method m = manager.getClass().getDeclaredMethod(operation, Caller.class);
        m.setAccessible(true);
        InvocationTargetException e = assertThrows(InvocationTargetException.class, () -> m.invoke(manager, CALLER));
        assertTrue(e.getCause() instanceof HelperException, "a clear refusal, not " + e.getCause());
        HelperException refused = (HelperException) e.getCause();
        assertEquals(HelperErrors.UNAVAILABLE, refused.code(), refused.getMessage());
        return refused;
    }
}

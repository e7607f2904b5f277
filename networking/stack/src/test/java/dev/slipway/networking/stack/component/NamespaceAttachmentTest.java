package dev.slipway.networking.stack.component;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.osgi.framework.BundleContext;

import dev.slipway.api.platform.CommandRunner;
import dev.slipway.api.platform.Platform;
import dev.slipway.networking.stack.NetConfig;
import dev.slipway.networking.stack.NetStack;

/** The embedded namespace component's decisions, with the OS commands recorded instead of run. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class NamespaceAttachmentTest {
    final NetStack stack = new NetStack(NetConfig.defaults());
    final List<List<String>> commands = new ArrayList<>();

    @AfterEach
    void stop() {
        stack.close();
    }

    static BundleContext context(Map<String, String> properties) {
        return (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> method.getName().equals("getProperty") ? properties.get((String) args[0]) : null);
    }

    static Platform platform(String os) {
        return (Platform) Proxy.newProxyInstance(Platform.class.getClassLoader(), new Class<?>[] {Platform.class},
                (proxy, method, args) -> method.getName().equals("osName") ? os : Path.of("/nonexistent"));
    }

    CommandRunner runner(String uid) {
        return (command, timeout) -> {
            synchronized (commands) {
                commands.add(command);
            }
            return command.get(0).equals("id") ? new CommandRunner.Result(0, uid + "\n", "") : new CommandRunner.Result(1, "", "refused in test");
        };
    }

    @Test
    void withoutRootItCreatesNothingAndSaysWhatNeedsRoot() throws Exception {
        var a = new NamespaceAttachment(context(Map.of()), Map.of(), () -> stack, runner("1000"), platform("linux"));
        for (int i = 0; i < 50 && a.state().equals("starting"); i++) {
            Thread.sleep(50);
        }
        assertEquals("needs root", a.state());
        a.deactivate();
        synchronized (commands) {
            assertTrue(commands.stream().noneMatch(c -> c.get(0).equals("ip") && c.contains("add")), commands.toString());
        }
    }

    @Test
    void netnsNoneTurnsItOff() {
        var a = new NamespaceAttachment(context(Map.of("slipway.netns", "none")), Map.of(), () -> stack, runner("0"), platform("linux"));
        assertEquals("off", a.state());
        a.deactivate();
        assertTrue(commands.isEmpty());
    }

    @Test
    void otherOperatingSystemsHaveNoNamespace() {
        var a = new NamespaceAttachment(context(Map.of()), Map.of(), () -> stack, runner("0"), platform("macos"));
        assertEquals("off", a.state());
        a.deactivate();
    }

    @Test
    void asRootAFailingStepIsReportedAndCleanedUp() throws Exception {
        var a = new NamespaceAttachment(context(Map.of("slipway.netns", "slw-test-never")), Map.of(), () -> stack, runner("0"), platform("linux"));
        for (int i = 0; i < 50 && a.state().equals("starting"); i++) {
            Thread.sleep(50);
        }
        assertTrue(a.state().startsWith("failed"), a.state());
        a.deactivate();
        synchronized (commands) {
            assertEquals(List.of("ip", "netns", "add", "slw-test-never"), commands.get(1));
        }
    }

    @Test
    void theGuestSectionOfStatusIsReadyOnlyOnceTheNamespaceHasItsAddress() throws Exception {
        var off = new NamespaceAttachment(context(Map.of("slipway.netns", "none")), Map.of(), () -> stack, runner("0"), platform("linux"));
        @SuppressWarnings("unchecked")
        Map<String, Object> status = (Map<String, Object>) off.status();
        assertEquals(false, status.get("ready"));
        assertEquals("off", status.get("state"));
        off.deactivate();

        var failing = new NamespaceAttachment(context(Map.of("slipway.netns", "slw-test-status")), Map.of(), () -> stack, runner("0"),
                platform("linux"));
        for (int i = 0; i < 50 && failing.state().equals("starting"); i++) {
            Thread.sleep(50);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> failed = (Map<String, Object>) failing.status();
        assertEquals("slw-test-status", failed.get("namespace"));
        assertEquals(false, failed.get("ready"));
        assertTrue(((String) failed.get("state")).startsWith("failed"), failed.toString());
        assertFalse(failed.containsKey("address"), failed.toString());
        failing.deactivate();
    }
}

package dev.slipway.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

class LaunchOptionsTest {

    private static final Path DIST = Path.of("/opt/slipway");

    @Test
    void optionsBecomeSlipwayFrameworkProperties() {
        LaunchOptions options = LaunchOptions.parse(new String[] {"--dns-listen", "127.0.0.1:15353", "--mtu=9000", "--verbose"},
                Map.of("HOME", "/home/u"), DIST);
        assertEquals(Map.of("slipway.dns-listen", "127.0.0.1:15353", "slipway.mtu", "9000", "slipway.verbose", "true"),
                options.frameworkProperties());
    }

    @Test
    void locationsFollowTheEnvironment() {
        LaunchOptions defaults = LaunchOptions.parse(new String[0], Map.of("HOME", "/home/u"), DIST);
        assertEquals(Path.of("/home/u/.slipway"), defaults.home());
        assertEquals(Path.of("/home/u/.slipway/run"), defaults.runtimeDir());
        assertEquals(DIST.resolve("conf/slipway.bndrun"), defaults.bndrun());

        LaunchOptions xdg = LaunchOptions.parse(new String[0], Map.of("HOME", "/home/u", "XDG_RUNTIME_DIR", "/run/user/1000"), DIST);
        assertEquals(Path.of("/run/user/1000/slipway"), xdg.runtimeDir());

        LaunchOptions home = LaunchOptions.parse(new String[0],
                Map.of("HOME", "/home/u", "SLIPWAY_HOME", "/tmp/s", "XDG_RUNTIME_DIR", "/run/user/1000"), DIST);
        assertEquals(Path.of("/tmp/s/run"), home.runtimeDir(), "an explicit Slipway home keeps its runtime dir with it");

        LaunchOptions helper = LaunchOptions.parse(new String[] {"--name", "helper", "--bndrun", "/x/helper.bndrun", "--no-watch"},
                Map.of("HOME", "/root"), DIST);
        assertEquals("helper", helper.name());
        assertEquals(Path.of("/x/helper.bndrun"), helper.bndrun());
        assertFalse(helper.watchDirectories());
    }

    @Test
    void whatFollowsTheDoubleDashIsAOneShotCommandWithItsOwnArguments() {
        LaunchOptions once = LaunchOptions.parse(new String[] {"--no-watch", "--installing-user", "alice", "--", "helper", "install",
                "--user", "bob"}, Map.of("HOME", "/home/a"), DIST);
        assertEquals(java.util.List.of("helper", "install", "--user", "bob"), once.command());
        assertEquals("alice", once.frameworkProperties().get("slipway.installing-user"));
        assertFalse(once.frameworkProperties().containsKey("slipway.user"), "options after -- are the command's");
        assertTrue(LaunchOptions.parse(new String[] {"--no-watch"}, Map.of("HOME", "/home/a"), DIST).command().isEmpty());
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> LaunchOptions.parse(new String[] {"up"}, Map.of(), DIST));
        assertThrows(IllegalArgumentException.class, () -> LaunchOptions.parse(new String[] {"--Bad_Name", "x"}, Map.of(), DIST));
        assertThrows(IllegalArgumentException.class, () -> LaunchOptions.parse(new String[] {"--"}, Map.of(), DIST));
    }
}

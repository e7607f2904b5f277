package dev.slipway.platform.macos;

import java.nio.file.Path;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import dev.slipway.api.platform.Platform;

/**
 * macOS: the helper is a launchd daemon under /Library/PrivilegedHelperTools with its socket in
 * /var/run; /etc is a link to /private/etc, so the hosts file is named by its real path.
 */
@Component(service = Platform.class)
public final class MacOsPlatform implements Platform {

    private final Path home;
    private final Path runtimeDir;

    @Activate
    public MacOsPlatform(BundleContext context) {
        this.home = Path.of(context.getProperty("user.home"));
        String configured = context.getProperty("slipway.runtime.dir");
        runtimeDir = configured != null ? Path.of(configured) : home.resolve(".slipway/run");
    }

    @Override public String osName() { return "macos"; }
    @Override public Path hostsFile() { return Path.of("/private/etc/hosts"); }
    @Override public Path helperSocket() { return Path.of("/var/run/dev.slipway.helper.server.sock"); }
    @Override public Path userBinDir() { return home.resolve(".slipway/bin"); }
    @Override public Path systemBinDir() { return Path.of("/usr/local/bin"); }
    @Override public Path systemInstallDir() { return Path.of("/Applications/Slipway.app"); }
    @Override public Path userInstallDir() { return home.resolve("Applications/Slipway.app"); }
    @Override public Path runtimeDir() { return runtimeDir; }
}

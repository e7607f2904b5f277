package dev.slipway.platform.linux;

import java.nio.file.Path;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import dev.slipway.api.platform.Platform;

/** Linux: FHS locations, systemd for the helper, the XDG runtime directory for the user's sockets. */
@Component(service = Platform.class)
public final class LinuxPlatform implements Platform {

    private final Path home;
    private final Path runtimeDir;

    @Activate
    public LinuxPlatform(BundleContext context) {
        this.home = Path.of(context.getProperty("user.home"));
        String configured = context.getProperty("slipway.runtime.dir");
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        if (configured != null) {
            runtimeDir = Path.of(configured);
        } else if (xdg != null && !xdg.isBlank()) {
            runtimeDir = Path.of(xdg, "slipway");
        } else {
            runtimeDir = home.resolve(".slipway/run");
        }
    }

    @Override public String osName() { return "linux"; }
    @Override public Path hostsFile() { return Path.of("/etc/hosts"); }
    @Override public Path helperSocket() { return Path.of("/run/slipway/helper.sock"); }
    @Override public Path userBinDir() { return home.resolve(".slipway/bin"); }
    @Override public Path systemBinDir() { return Path.of("/usr/local/bin"); }
    @Override public Path systemInstallDir() { return Path.of("/opt/slipway"); }
    @Override public Path userInstallDir() { return home.resolve(".local/share/slipway"); }
    @Override public Path runtimeDir() { return runtimeDir; }
}

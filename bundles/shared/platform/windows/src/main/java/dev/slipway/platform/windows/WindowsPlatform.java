package dev.slipway.platform.windows;

import java.nio.file.Path;
import java.util.function.UnaryOperator;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import dev.slipway.api.platform.Platform;

/**
 * Windows: the helper is a service running as SYSTEM whose AF_UNIX socket lives under
 * ProgramData; all-users installs go to Program Files, per-user installs to LOCALAPPDATA.
 * Locations come from the standard environment variables, with Windows' own defaults.
 */
@Component(service = Platform.class)
public final class WindowsPlatform implements Platform {

    private final String systemRoot;
    private final String programData;
    private final String programFiles;
    private final String localAppData;
    private final Path runtimeDir;

    @Activate
    public WindowsPlatform(BundleContext context) {
        this(System::getenv, context.getProperty("user.home"), context.getProperty("slipway.runtime.dir"));
    }

    WindowsPlatform(UnaryOperator<String> env, String userHome, String configuredRuntimeDir) {
        systemRoot = orDefault(env.apply("SystemRoot"), "C:\\Windows");
        programData = orDefault(env.apply("ProgramData"), "C:\\ProgramData");
        programFiles = orDefault(env.apply("ProgramFiles"), "C:\\Program Files");
        localAppData = orDefault(env.apply("LOCALAPPDATA"), userHome + "\\AppData\\Local");
        runtimeDir = configuredRuntimeDir != null ? Path.of(configuredRuntimeDir)
                : Path.of(localAppData + "\\Slipway\\run");
    }

    private static String orDefault(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }

    @Override public String osName() { return "windows"; }
    @Override public Path hostsFile() { return Path.of(systemRoot + "\\System32\\drivers\\etc\\hosts"); }
    @Override public Path helperSocket() { return Path.of(programData + "\\Slipway\\helper.sock"); }
    @Override public Path userBinDir() { return Path.of(localAppData + "\\Programs\\Slipway\\bin"); }
    @Override public Path systemBinDir() { return Path.of(programFiles + "\\Slipway\\bin"); }
    @Override public Path systemInstallDir() { return Path.of(programFiles + "\\Slipway"); }
    @Override public Path userInstallDir() { return Path.of(localAppData + "\\Programs\\Slipway"); }
    @Override public Path runtimeDir() { return runtimeDir; }
}

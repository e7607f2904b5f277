package dev.slipway.links.user;

import dev.slipway.links.CliLinks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperSettings;
import dev.slipway.api.helper.UserCliLinks;
import dev.slipway.api.platform.Platform;

/**
 * The user-location CLI links, in the runtime's process. The install dir is the framework
 * property {@code slipway.install.dir} (set by the launcher), else the platform's system install dir.
 */
@Component(service = UserCliLinks.class)
public final class UserLinks implements UserCliLinks {

    private final Path binDir;
    private final CliLinks links;

    @Activate
    public UserLinks(BundleContext context, @Reference Platform platform) {
        this(platform.userBinDir(), Optional.ofNullable(context.getProperty("slipway.install.dir")).map(Path::of)
                .orElse(platform.systemInstallDir()));
    }

    public UserLinks(Path binDir, Path installDir) {
        this.binDir = binDir;
        this.links = new CliLinks(binDir, installDir, CliLinks.tools(HelperSettings.DEFAULT_CLI_TOOLS),
                System.getProperty("user.name"));
    }

    @Override
    public Path binDir() {
        return binDir;
    }

    @Override
    public Map<String, String> install() throws IOException {
        if (!Files.exists(binDir)) {
            Files.createDirectories(binDir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        return links.install();
    }

    @Override
    public Map<String, String> remove() throws IOException {
        return Files.exists(binDir) ? links.remove() : Map.of();
    }
}

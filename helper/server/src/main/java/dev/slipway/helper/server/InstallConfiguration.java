package dev.slipway.helper.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Optional;
import java.util.Properties;
import java.util.function.UnaryOperator;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.slipway.api.helper.HelperServiceDefinitions;
import dev.slipway.api.helper.HelperSettings;

/**
 * The helper's settings: framework properties {@code slipway.helper.KEY} over the install-time
 * configuration file. The file is trusted only if it is a regular file (not a link) owned by root
 * (or the helper's own user) and writable by nobody else: otherwise the helper does not start.
 */
@Component(service = HelperSettings.class)
public final class InstallConfiguration implements HelperSettings {

    private final UnaryOperator<String> properties;
    private final Properties file;

    @Activate
    public InstallConfiguration(BundleContext context, @Reference HelperServiceDefinitions definitions) throws IOException {
        this(context::getProperty, Optional.ofNullable(context.getProperty(CONFIG_FILE_PROPERTY))
                .map(Path::of).orElse(definitions.configFile()));
    }

    InstallConfiguration(UnaryOperator<String> properties, Path configFile) throws IOException {
        this.properties = properties;
        this.file = load(configFile);
    }

    static Properties load(Path configFile) throws IOException {
        Properties loaded = new Properties();
        if (!Files.exists(configFile, LinkOption.NOFOLLOW_LINKS)) {
            return loaded;
        }
        PosixFileAttributes attributes = Files.readAttributes(configFile, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!attributes.isRegularFile()) {
            throw new IOException(configFile + " is not a regular file (a symlink?); the helper does not trust it");
        }
        String owner = attributes.owner().getName();
        if (!owner.equals("root") && !owner.equals(System.getProperty("user.name"))) {
            throw new IOException(configFile + " is owned by " + owner + "; the helper trusts only a root-owned configuration");
        }
        if (attributes.permissions().contains(PosixFilePermission.GROUP_WRITE)
                || attributes.permissions().contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException(configFile + " is writable by group or others; the helper does not trust it");
        }
        try (InputStream in = Files.newInputStream(configFile, LinkOption.NOFOLLOW_LINKS)) {
            loaded.load(in);
        }
        return loaded;
    }

    @Override
    public Optional<String> get(String key) {
        String property = properties.apply(PROPERTY_PREFIX + key);
        if (property != null && !property.isBlank()) {
            return Optional.of(property.trim());
        }
        String value = file.getProperty(key);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
    }
}

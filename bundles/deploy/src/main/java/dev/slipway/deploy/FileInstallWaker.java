package dev.slipway.deploy;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.HashSet;
import java.util.Hashtable;
import java.util.Set;

import org.apache.felix.fileinstall.ArtifactUrlTransformer;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.cm.ConfigurationEvent;
import org.osgi.service.cm.ConfigurationListener;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes fileinstall look at its directories ({@code deploy/}, {@code conf/}) as soon as something in
 * them changes, so that the launcher can give fileinstall a poll interval of an hour and an idle
 * runtime does not wake up to look.
 *
 * <p>fileinstall 3.7 collects changes through a watch service of its own but reads it only when its
 * poll interval ends, and it has no call to scan now. What it does do is wake every directory
 * watcher (a {@code notifyAll}) when an artifact listener service comes, goes or changes its
 * properties. This component watches the same directories with the OS's notifications
 * ({@link DirectoryChanges}) and on a change updates the properties of an artifact listener it
 * registers for that alone: one that handles no file. The directories are fileinstall's own: the
 * framework property {@value #DIR} and the {@value #DIR} of each fileinstall factory configuration.
 */
@Component(service = ConfigurationListener.class, immediate = true)
public final class FileInstallWaker implements ConfigurationListener {

    static final String FACTORY_PID = "org.apache.felix.fileinstall";
    static final String DIR = "felix.fileinstall.dir";
    static final String WAKE_PROPERTY = "slipway.fileinstall.wake";

    private static final Logger LOG = LoggerFactory.getLogger(FileInstallWaker.class);

    private final BundleContext context;
    private final ConfigurationAdmin configurations;
    private final ServiceRegistration<ArtifactUrlTransformer> wakeUp;
    private final DirectoryChanges changes;
    private long wakes;

    @Activate
    public FileInstallWaker(BundleContext context, @Reference ConfigurationAdmin configurations) {
        this.context = context;
        this.configurations = configurations;
        wakeUp = context.registerService(ArtifactUrlTransformer.class, new HandlesNothing(), wakeProperties(0));
        changes = new DirectoryChanges("slipway-fileinstall-wake", this::wake);
        changes.watch(directories());
    }

    @Deactivate
    void deactivate() {
        changes.close();
        try {
            wakeUp.unregister();
        } catch (IllegalStateException e) {
            // the framework is stopping
        }
    }

    @Override
    public void configurationEvent(ConfigurationEvent event) {
        if (FACTORY_PID.equals(event.getFactoryPid())) {
            changes.watch(directories());
        }
    }

    /** What fileinstall watches: the framework's directory and each factory configuration's. */
    private Set<Path> directories() {
        Set<Path> directories = new HashSet<>();
        String frameworkDir = context.getProperty(DIR);
        if (frameworkDir != null) {
            directories.add(Path.of(frameworkDir).toAbsolutePath());
        }
        try {
            Configuration[] factoryConfigurations = configurations.listConfigurations(
                    "(service.factoryPid=" + FACTORY_PID + ")");
            if (factoryConfigurations != null) {
                for (Configuration configuration : factoryConfigurations) {
                    Dictionary<String, Object> properties = configuration.getProperties();
                    Object dir = properties == null ? null : properties.get(DIR);
                    if (dir != null) {
                        directories.add(Path.of(dir.toString()).toAbsolutePath());
                    }
                }
            }
        } catch (IOException | InvalidSyntaxException e) {
            LOG.warn("cannot list fileinstall's configurations; watching {} only", directories, e);
        }
        directories.removeIf(dir -> !dir.toFile().isDirectory());
        return directories;
    }

    private synchronized void wake() {
        wakes++;
        try {
            wakeUp.setProperties(wakeProperties(wakes));
        } catch (IllegalStateException e) {
            // deactivating
        }
    }

    private static Dictionary<String, Object> wakeProperties(long wakes) {
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(WAKE_PROPERTY, wakes);
        return properties;
    }

    /** fileinstall asks each listener whether it handles a file; this one never does, so it is never given one. */
    static final class HandlesNothing implements ArtifactUrlTransformer {
        @Override
        public boolean canHandle(File artifact) {
            return false;
        }

        @Override
        public URL transform(URL artifact) {
            return artifact;
        }
    }
}

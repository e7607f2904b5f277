package dev.slipway.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.ops4j.pax.exam.Option;

import dev.slipway.launcher.BundleRepository;
import dev.slipway.launcher.Launcher;
import dev.slipway.launcher.RunSpec;

/**
 * Pax Exam options for the real runtime: the bundles of cnf/slipway.bndrun, taken from the built
 * distribution exactly as the launcher takes them, with the launcher's framework properties.
 */
final class SlipwayRuntimeOptions {

    private SlipwayRuntimeOptions() {
    }

    static Path dist() {
        return Path.of(System.getProperty("slipway.dist", "../runtime/target/slipway")).toAbsolutePath().normalize();
    }

    static Path bndrun() {
        return Path.of(System.getProperty("slipway.bndrun", "../cnf/slipway.bndrun")).toAbsolutePath().normalize();
    }

    /** A fresh temporary directory, for a test's Slipway home or deploy directory. */
    static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The runtime as it runs, plus {@code extra} framework properties (e.g. another OS's name). */
    static Option[] runtime(Map<String, String> extra) {
        try {
            RunSpec spec = RunSpec.read(bndrun());
            BundleRepository repository = BundleRepository.scan(dist().resolve("bundles"));
            Path home = Files.createTempDirectory("slipway-itest-");
            List<Option> options = new ArrayList<>();
            options.add(cleanCaches());
            options.add(junitBundles());
            // merged by Pax Exam with the packages it shares with the test itself
            options.add(systemPackages(RunSpec.splitList(Launcher.classPathExports()).toArray(String[]::new)));
            options.add(frameworkProperty("slipway.home").value(home.toString()));
            options.add(frameworkProperty("slipway.runtime.dir").value(home.resolve("run").toString()));
            options.add(systemProperty("org.slf4j.simpleLogger.defaultLogLevel").value("warn"));
            spec.properties().forEach((k, v) -> options.add(frameworkProperty(k).value(v)));
            extra.forEach((k, v) -> options.add(frameworkProperty(k).value(v)));
            for (BundleRepository.Entry entry : repository.resolve(spec)) {
                options.add(bundle("reference:" + entry.jar().toUri()));
            }
            return options.toArray(Option[]::new);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot provision the runtime from " + bndrun() + " and " + dist(), e);
        }
    }
}

package dev.slipway.launcher;

import java.lang.management.ManagementFactory;
import java.util.Locale;

import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParserFactory;

import org.xml.sax.SAXException;

/**
 * Initialises, on the second core while the main thread reads the bundle set and starts the
 * framework, the JDK facilities the runtime's bundles are known to need first: the list of
 * available locales (Jetty's MimeTypes asks for it while the control server is built; on a cold
 * JVM that alone takes a few hundred milliseconds), the management beans behind the status route,
 * and the SAX parser SCR reads component descriptions with. Each is initialised once per JVM and
 * thread-safe, so whichever thread gets there first does the work and the other waits for it.
 */
final class JdkWarmUp {

    private JdkWarmUp() {
    }

    static void start() {
        Thread thread = new Thread(JdkWarmUp::run, "slipway-warm-up");
        thread.setDaemon(true);
        thread.start();
    }

    private static void run() {
        Locale.getAvailableLocales();
        SAXParserFactory factory = SAXParserFactory.newInstance();
        factory.setNamespaceAware(true);
        try {
            factory.newSAXParser();
        } catch (ParserConfigurationException | SAXException e) {
            // only a warm-up: SCR reports its own parser problems
        }
        ManagementFactory.getRuntimeMXBean().getUptime();
        ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    }
}

package dev.slipway.networking.ports;

import java.lang.reflect.Proxy;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import dev.slipway.networking.stack.component.NetworkService;

/** Stand-ins for the framework services the tests need: one ConfigAdmin store, a context with no properties. */
final class Fakes {
    private Fakes() {
    }

    /** A ConfigurationAdmin whose configurations live in {@code store} (PID to properties), so a second forwarder sees them. */
    static ConfigurationAdmin configAdmin(Map<String, Dictionary<String, Object>> store) {
        return (ConfigurationAdmin) Proxy.newProxyInstance(Fakes.class.getClassLoader(), new Class<?>[] {ConfigurationAdmin.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getConfiguration")) {
                        return configuration((String) args[0], store);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    private static Configuration configuration(String pid, Map<String, Dictionary<String, Object>> store) {
        return (Configuration) Proxy.newProxyInstance(Fakes.class.getClassLoader(), new Class<?>[] {Configuration.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getProperties" -> {
                        Dictionary<String, Object> d = store.get(pid);
                        yield d == null ? null : new Hashtable<>((Hashtable<String, Object>) d);
                    }
                    case "update" -> {
                        store.put(pid, new Hashtable<>((Hashtable<String, Object>) args[0]));
                        yield null;
                    }
                    case "getPid" -> pid;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    static BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(Fakes.class.getClassLoader(), new Class<?>[] {BundleContext.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getProperty")) {
                        return null;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    /** The real network component, running with the default addresses and no VM sockets. */
    static NetworkService network() throws java.io.IOException {
        return new NetworkService(context(), Map.of());
    }

    static void stop(NetworkService network) throws Exception {
        var m = NetworkService.class.getDeclaredMethod("deactivate");
        m.setAccessible(true);
        m.invoke(network);
    }

    static void stop(PortForwarder forwarder) {
        forwarder.deactivate();
    }
}

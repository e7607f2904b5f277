package dev.slipway.dns.server;

import java.lang.reflect.Proxy;
import java.util.Map;

/** Configuration instances outside a framework: the annotation's defaults with some values replaced. */
final class Configs {

    private Configs() {}

    static DnsConfig dns(Map<String, Object> overrides) {
        return (DnsConfig) Proxy.newProxyInstance(DnsConfig.class.getClassLoader(), new Class<?>[] {DnsConfig.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("annotationType")) {
                        return DnsConfig.class;
                    }
                    if (method.getDeclaringClass() == Object.class) {
                        return switch (method.getName()) {
                            case "hashCode" -> System.identityHashCode(proxy);
                            case "equals" -> proxy == args[0];
                            default -> "DnsConfig" + overrides;
                        };
                    }
                    Object value = overrides.get(method.getName());
                    return value != null ? value : method.getDefaultValue();
                });
    }

    static DnsConfig dns() {
        return dns(Map.of());
    }
}

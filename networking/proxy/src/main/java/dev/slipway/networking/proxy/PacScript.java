package dev.slipway.networking.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.mozilla.javascript.BaseFunction;
import org.mozilla.javascript.Context;
import org.mozilla.javascript.ContextFactory;
import org.mozilla.javascript.Function;
import org.mozilla.javascript.Scriptable;
import org.mozilla.javascript.ScriptableObject;

import dev.slipway.api.proxy.ProxyServer;

/**
 * A proxy auto-config script, run by Mozilla Rhino (interpreted, no generated classes, so it works
 * inside OSGi), with the standard helper functions, the date and time ones ({@code weekdayRange},
 * {@code dateRange}, {@code timeRange}) in {@link PacTime}. Every evaluation is bounded in time.
 */
final class PacScript {
    /** The helpers of the PAC convention, written against the two host functions below. */
    private static final String HELPERS = """
            function isPlainHostName(host) { return host.indexOf('.') < 0; }
            function dnsDomainIs(host, domain) {
              return host.length >= domain.length && host.substring(host.length - domain.length) == domain;
            }
            function localHostOrDomainIs(host, hostdom) { return host == hostdom || hostdom.lastIndexOf(host + '.', 0) == 0; }
            function isResolvable(host) { return dnsResolve(host) != null; }
            function dnsDomainLevels(host) { return host.split('.').length - 1; }
            function __addr(ip) {
              var b = ip.split('.');
              return ((b[0] & 255) << 24) | ((b[1] & 255) << 16) | ((b[2] & 255) << 8) | (b[3] & 255);
            }
            function isInNet(host, pattern, mask) {
              var ip = /^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(host) ? host : dnsResolve(host);
              if (ip == null) return false;
              var m = __addr(mask);
              return (__addr(ip) & m) == (__addr(pattern) & m);
            }
            function shExpMatch(str, shexp) {
              var re = shexp.replace(/[.+^${}()|[\\]\\\\]/g, '\\\\$&').replace(/\\*/g, '.*').replace(/\\?/g, '.');
              return new RegExp('^' + re + '$').test(str);
            }
            """;

    /** Stops a script that runs longer than its budget (an endless loop in a PAC file must not stall guests). */
    private static final class BoundedFactory extends ContextFactory {
        private final long budgetMillis;

        BoundedFactory(long budgetMillis) {
            this.budgetMillis = budgetMillis;
        }

        @Override
        protected Context makeContext() {
            Context cx = super.makeContext();
            cx.setOptimizationLevel(-1);
            cx.setInstructionObserverThreshold(10_000);
            cx.setLanguageVersion(Context.VERSION_ES6);
            return cx;
        }

        @Override
        protected void observeInstructionCount(Context cx, int instructionCount) {
            Long deadline = (Long) cx.getThreadLocal("deadline");
            if (deadline != null && System.nanoTime() > deadline) {
                throw new Error("the PAC script ran for longer than " + budgetMillis + " ms");
            }
        }

        Object call(Scriptable shared, Function f, Object... args) {
            Context cx = enterContext();
            try {
                cx.putThreadLocal("deadline", System.nanoTime() + budgetMillis * 1_000_000L);
                Scriptable scope = cx.newObject(shared);
                scope.setPrototype(shared);
                scope.setParentScope(null);
                return f.call(cx, scope, scope, args);
            } finally {
                Context.exit();
            }
        }
    }

    /** Looks a name up for the script; null when it does not resolve. */
    interface Resolver {
        String resolve(String host);
    }

    private final String url;
    private final BoundedFactory factory;
    private final Scriptable shared;
    private final Function find;

    private PacScript(String url, BoundedFactory factory, Scriptable shared, Function find) {
        this.url = url;
        this.factory = factory;
        this.shared = shared;
        this.find = find;
    }

    String url() {
        return url;
    }

    /**
     * Compiles {@code source}.
     *
     * @throws IllegalArgumentException when it does not compile, does not finish, or defines no FindProxyForURL
     */
    static PacScript compile(String url, String source, Resolver resolver, String myAddress, long budgetMillis) {
        return compile(url, source, resolver, myAddress, budgetMillis, new PacTime(java.time.Clock.systemUTC(), java.time.ZoneId.systemDefault()));
    }

    /** {@link #compile(String, String, Resolver, String, long)} with the date and time helpers reading {@code time}. */
    static PacScript compile(String url, String source, Resolver resolver, String myAddress, long budgetMillis, PacTime time) {
        BoundedFactory factory = new BoundedFactory(budgetMillis);
        Context cx = factory.enterContext();
        try {
            cx.putThreadLocal("deadline", System.nanoTime() + budgetMillis * 1_000_000L);
            ScriptableObject scope = cx.initSafeStandardObjects();
            ScriptableObject.putProperty(scope, "dnsResolve", new BaseFunction() {
                @Override
                public Object call(Context c, Scriptable s, Scriptable thisObj, Object[] args) {
                    return args.length == 0 ? null : resolver.resolve(Context.toString(args[0]));
                }
            });
            ScriptableObject.putProperty(scope, "myIpAddress", new BaseFunction() {
                @Override
                public Object call(Context c, Scriptable s, Scriptable thisObj, Object[] args) {
                    return myAddress;
                }
            });
            ScriptableObject.putProperty(scope, "weekdayRange", new BaseFunction() {
                @Override
                public Object call(Context c, Scriptable s, Scriptable thisObj, Object[] args) {
                    return time.weekdayRange(args);
                }
            });
            ScriptableObject.putProperty(scope, "dateRange", new BaseFunction() {
                @Override
                public Object call(Context c, Scriptable s, Scriptable thisObj, Object[] args) {
                    return time.dateRange(args);
                }
            });
            ScriptableObject.putProperty(scope, "timeRange", new BaseFunction() {
                @Override
                public Object call(Context c, Scriptable s, Scriptable thisObj, Object[] args) {
                    return time.timeRange(args);
                }
            });
            cx.evaluateString(scope, HELPERS, "pac-helpers", 1, null);
            cx.evaluateString(scope, source, url, 1, null);
            Object f = ScriptableObject.getProperty(scope, "FindProxyForURL");
            if (!(f instanceof Function function)) {
                throw new IllegalArgumentException("the PAC script defines no FindProxyForURL function");
            }
            scope.sealObject();
            return new PacScript(url, factory, scope, function);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException | Error e) {
            throw new IllegalArgumentException("the PAC script at " + url + " fails: " + e.getMessage(), e);
        } finally {
            Context.exit();
        }
    }

    /**
     * The script's answer for {@code url} on {@code host}, e.g. {@code "PROXY p:3128; DIRECT"}.
     *
     * @throws IllegalStateException when the script fails or runs too long
     */
    String find(String url, String host) {
        try {
            return Context.toString(factory.call(shared, find, url, host));
        } catch (RuntimeException | Error e) {
            throw new IllegalStateException("FindProxyForURL(" + url + ", " + host + ") failed: " + e.getMessage(), e);
        }
    }

    /** One entry of a PAC answer: a proxy, or DIRECT (proxy null). */
    record Choice(ProxyServer proxy) {
        static final Choice DIRECT = new Choice(null);
    }

    /**
     * The usable choices in a PAC answer, in order: {@code PROXY host:port} (also {@code HTTP}) and
     * {@code DIRECT}; SOCKS and HTTPS entries are skipped, since only HTTP proxies carry guest traffic.
     */
    static List<Choice> choices(String answer) {
        List<Choice> out = new ArrayList<>();
        for (String part : answer.split(";")) {
            String[] words = part.strip().split("\\s+");
            String kind = words[0].toUpperCase(Locale.ROOT);
            if (kind.equals("DIRECT")) {
                out.add(Choice.DIRECT);
            } else if ((kind.equals("PROXY") || kind.equals("HTTP")) && words.length == 2) {
                try {
                    out.add(new Choice(ProxyServer.parse("http://" + words[1])));
                } catch (IllegalArgumentException e) {
                    // an unreadable entry is skipped like an unsupported one
                }
            }
        }
        return out;
    }

    /** The host's address for {@code myIpAddress()}: the one used for the default route, else loopback. */
    static String localAddress() {
        try (var s = new java.net.DatagramSocket()) {
            s.connect(InetAddress.getByName("192.0.2.1"), 9); // no packet is sent: connect() on UDP only picks a route
            String a = s.getLocalAddress().getHostAddress();
            return a.equals("0.0.0.0") ? "127.0.0.1" : a;
        } catch (java.io.IOException e) {
            return "127.0.0.1";
        }
    }

    /** dnsResolve for scripts: the first IPv4 address, or null. */
    static String resolve(String host) {
        try {
            for (InetAddress a : InetAddress.getAllByName(host)) {
                if (a.getAddress().length == 4) {
                    return a.getHostAddress();
                }
            }
        } catch (UnknownHostException | SecurityException e) {
            // not resolvable: null, as scripts expect
        }
        return null;
    }
}

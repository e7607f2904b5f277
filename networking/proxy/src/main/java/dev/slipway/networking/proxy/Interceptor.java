package dev.slipway.networking.proxy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.networking.api.ConnectionPolicy;
import dev.slipway.networking.api.GuestConnection;
import dev.slipway.networking.proxy.ProxyRouter.Mode;
import dev.slipway.networking.proxy.ProxyRouter.Origin;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The host end of intercepted guest connections: the stack hands each one over as a
 * {@link GuestConnection} (no listener, no loopback socket), the {@link ProxyRouter} tells what
 * kind it is, and the interceptor carries it where it was meant to go — plain HTTP
 * re-sent through the upstream proxy with OkHttp, TLS through a {@code CONNECT name:port} tunnel
 * named after the ClientHello's SNI, excluded destinations directly.
 *
 * <p>Blocking streams on a bounded pool of threads (a tunnel takes two), every read and connect
 * with a timeout: OkHttp's calls block, and a failed proxy must never leave a guest waiting.
 * Beyond {@link Limits#maxThreads} connections at once, new ones are reset and counted
 * ({@code rejectedBusy}); idle threads end after 30 s.
 */
final class Interceptor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Interceptor.class);

    /** Timeouts and limits. */
    record Limits(Duration connect, Duration head, Duration idle, int maxThreads) {
        static Limits defaults() {
            return new Limits(Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(5), 256);
        }
    }

    private final ProxyRouter router;
    private final InetAddress hostAlias;
    private final MetadataFilter metadata;
    private final Limits limits;
    private final HttpClients httpClients;
    private final ThreadPoolExecutor pool;
    private volatile boolean open = true;
    final AtomicLong intercepted = new AtomicLong(), viaProxy = new AtomicLong(), direct = new AtomicLong(),
            refusedByPolicy = new AtomicLong(), refusedMetadata = new AtomicLong(), failures = new AtomicLong(),
            rejectedBusy = new AtomicLong();
    final AtomicInteger active = new AtomicInteger();
    volatile String lastFailure = "";

    Interceptor(ProxyRouter router, InetAddress hostAlias, MetadataFilter metadata, Limits limits, HttpClients httpClients) {
        this.router = router;
        this.metadata = metadata;
        this.httpClients = httpClients;
        this.hostAlias = hostAlias;
        this.limits = limits;
        AtomicInteger n = new AtomicInteger();
        pool = new ThreadPoolExecutor(0, limits.maxThreads(), 30, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "slipway-proxy-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Takes a connection the stack intercepted; called on the stack's event loop, so it only
     * hands the connection to a thread of the pool (or resets it when all are busy).
     */
    void accept(GuestConnection guest) {
        Origin origin = router.origin(guest.destinationIp(), guest.destinationPort());
        if (!open) {
            guest.abort();
            return;
        }
        try {
            pool.execute(() -> handle(guest, origin));
        } catch (RejectedExecutionException e) {
            rejectedBusy.incrementAndGet();
            fail("too many intercepted connections at once (" + limits.maxThreads() + " threads busy)");
            guest.abort();
        }
    }

    private void handle(GuestConnection guest, Origin origin) {
        intercepted.incrementAndGet();
        active.incrementAndGet();
        try (guest) {
            guest.readTimeout((int) limits.head().toMillis());
            switch (origin.mode()) {
                case TLS -> tls(guest, origin);
                case HTTP -> http(guest, origin, new BufferedInputStream(guest.input()), null);
                case EXPLICIT -> explicit(guest);
            }
        } catch (SocketTimeoutException e) {
            fail("guest " + describe(origin) + " sent nothing for " + limits.head().toSeconds() + " s");
        } catch (IOException | RuntimeException e) {
            LOG.debug("intercepted connection to {} ended: {}", describe(origin), e.toString());
        } finally {
            active.decrementAndGet();
        }
    }

    // ------------------------------------------------------------------ TLS: CONNECT by SNI

    private void tls(GuestConnection guest, Origin origin) throws IOException {
        byte[] hello = new byte[ClientHello.MAX_RECORD];
        int n = 0;
        InputStream in = guest.input();
        while (true) {
            int need = ClientHello.recordLength(hello, n);
            if (need < 0 || need > 0 && n >= need) {
                break;
            }
            int r = in.read(hello, n, (need > 0 ? need : 5) - n);
            if (r < 0) {
                return;
            }
            n += r;
        }
        String sni = ClientHello.serverName(hello, n);
        String name = sni != null ? sni : ipText(origin.ip());
        Routing routing = router.routing();
        String refusal = routing.refusal(name, toInet(origin.ip()), origin.port(), ConnectionPolicy.Source.TLS_SNI);
        if (refusal != null) {
            refusedByPolicy.incrementAndGet();
            LOG.warn("refused TLS connection to {}:{}: {}", name, origin.port(), refusal);
            return;
        }
        Socket upstream;
        try {
            upstream = open(name, origin.ip(), origin.port(), routing.tlsProxy(name, origin.ip(), origin.port()));
        } catch (ProxyFailure e) {
            if (e.status != 403) {
                fail("TLS connection to " + name + ":" + origin.port() + " closed: " + e.getMessage());
            }
            return;
        }
        try (upstream) {
            upstream.getOutputStream().write(hello, 0, n);
            splice(guest, in, upstream);
        }
    }

    /** A failure to reach the destination, with what the guest should see. */
    static final class ProxyFailure extends IOException {
        final int status;

        ProxyFailure(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** The answer to a destination on the refused list; counted, and not a failure of the proxy. */
    private ProxyFailure refusedMetadata(String destination) {
        refusedMetadata.incrementAndGet();
        String reason = destination + " is a cloud metadata destination; the guest may not reach it";
        LOG.warn("refused: {}", reason);
        return new ProxyFailure(403, reason);
    }

    /** Records a failure to reach a destination, unless it was a refusal of a metadata destination. */
    private void failed(ProxyFailure e) {
        if (e.status != 403) {
            fail(e.getMessage());
        }
    }

    /**
     * A socket to {@code name:port}: through a CONNECT tunnel of {@code proxy}, or directly to the
     * original address ({@code ip}, or {@code name} resolved on the host when 0) when proxy is null.
     */
    private Socket open(String name, int ip, int port, ProxyServer proxy) throws ProxyFailure {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout((int) limits.head().toMillis());
            if (ip != 0 && metadata.refuses(toInet(ip))) {
                throw refusedMetadata(ipText(ip));
            }
            if (metadata.refusesLiteral(name)) {
                throw refusedMetadata(name);
            }
            if (proxy == null) {
                InetAddress address;
                try {
                    address = ip != 0 ? toInet(ip) : metadata.lookup(name).get(0);
                } catch (MetadataFilter.Refused e) {
                    throw refusedMetadata(name);
                }
                s.connect(new InetSocketAddress(address.equals(hostAlias) ? InetAddress.getLoopbackAddress() : address, port),
                        (int) limits.connect().toMillis());
                direct.incrementAndGet();
                return s;
            }
            s.connect(new InetSocketAddress(proxy.host(), proxy.port()), (int) limits.connect().toMillis());
            String authority = (name.contains(":") ? "[" + name + "]" : name) + ":" + port;
            StringBuilder req = new StringBuilder("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
            if (proxy.hasCredentials()) {
                req.append("Proxy-Authorization: ").append(HttpFraming.basic(proxy)).append("\r\n");
            }
            req.append("\r\n");
            s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            String head = HttpFraming.readResponseHead(s.getInputStream());
            int status = HttpFraming.statusOf(head);
            if (status != 200) {
                String line = head.lines().findFirst().orElse("").strip();
                throw new ProxyFailure(status == 407 ? 407 : 502, "the proxy " + proxy.host() + ":" + proxy.port()
                        + " answered CONNECT " + authority + " with \"" + line + "\""
                        + (status == 407 ? (proxy.hasCredentials() ? " (the credentials were refused)" : " (no credentials are set)") : ""));
            }
            viaProxy.incrementAndGet();
            return s;
        } catch (ProxyFailure e) {
            closeQuietly(s);
            throw e;
        } catch (IOException e) {
            closeQuietly(s);
            String where = proxy == null ? name + ":" + port + " directly"
                    : "the proxy " + proxy.host() + ":" + proxy.port();
            throw new ProxyFailure(502, "cannot reach " + where + ": " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ explicit proxy on the gateway

    private void explicit(GuestConnection guest) throws IOException {
        BufferedInputStream in = new BufferedInputStream(guest.input());
        RequestHead head;
        try {
            head = RequestHead.read(in);
        } catch (RequestHead.BadRequest e) {
            HttpFraming.respond(guest.output(), 400, e.getMessage(), true);
            return;
        }
        if (head == null) {
            return;
        }
        if (!head.method.equals("CONNECT")) {
            http(guest, null, in, head);
            return;
        }
        int bracket = head.target.startsWith("[") ? head.target.indexOf(']') : -1;
        String host = bracket > 0 ? head.target.substring(1, bracket) : RequestHead.stripPort(head.target);
        int port = HttpFraming.portOf(head.target);
        if (metadata.refusesLiteral(host)) {
            HttpFraming.respond(guest.output(), 403, refusedMetadata(host).getMessage(), true);
            return;
        }
        int[] literal = NoProxy.cidr(host);
        String name = literal != null ? host : ClientHello.hostName(host);
        if (name == null || port <= 0) {
            HttpFraming.respond(guest.output(), 400, "CONNECT needs host:port, got " + head.target, true);
            return;
        }
        Routing routing = router.routing();
        String refusal = routing.refusal(name, literal == null ? null : toInet(literal[0]), port, ConnectionPolicy.Source.PROXY_CONNECT);
        if (refusal != null) {
            refusedByPolicy.incrementAndGet();
            HttpFraming.respond(guest.output(), 403, refusal, true);
            return;
        }
        Socket upstream;
        try {
            upstream = open(name, literal == null ? 0 : literal[0], port, routing.tlsProxy(name, literal == null ? 0 : literal[0], port));
        } catch (ProxyFailure e) {
            failed(e);
            HttpFraming.respond(guest.output(), e.status, e.getMessage(), true);
            return;
        }
        try (upstream) {
            guest.output().write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            splice(guest, in, upstream);
        }
    }

    // ------------------------------------------------------------------ HTTP through OkHttp

    /**
     * Serves HTTP requests of one guest connection. {@code origin} is null for the explicit proxy
     * (absolute-form requests); {@code first} is a head already read, or null.
     */
    private void http(GuestConnection guest, Origin origin, InputStream in, RequestHead first) throws IOException {
        OutputStream out = guest.output();
        RequestHead head = first;
        while (true) {
            if (head == null) {
                try {
                    head = RequestHead.read(in);
                } catch (RequestHead.BadRequest e) {
                    HttpFraming.respond(out, 400, e.getMessage(), true);
                    return;
                }
                if (head == null) {
                    return;
                }
            }
            HttpUrl url = HttpFraming.urlOf(head, origin);
            if (url == null) {
                HttpFraming.respond(out, 400, "cannot tell the destination of \"" + head.method + " " + head.target + "\"", true);
                return;
            }
            String name = url.host().toLowerCase(Locale.ROOT);
            int[] literal = NoProxy.cidr(name);
            int ip = origin != null ? origin.ip() : literal != null ? literal[0] : 0;
            String refusedAs = metadata.refusesLiteral(name) ? name : ip != 0 && metadata.refuses(toInet(ip)) ? ipText(ip) : null;
            if (refusedAs != null) {
                HttpFraming.respond(out, 403, refusedMetadata(refusedAs).getMessage(), true);
                return;
            }
            Routing routing = router.routing();
            String refusal = routing.refusal(name, ip == 0 ? null : toInet(ip), url.port(), ConnectionPolicy.Source.HTTP_HOST);
            if (refusal != null) {
                refusedByPolicy.incrementAndGet();
                LOG.warn("refused HTTP request to {}: {}", name, refusal);
                HttpFraming.respond(out, 403, refusal, true);
                return;
            }
            ProxyServer proxy = routing.httpProxy(url.toString(), name, ip);
            if (origin != null && proxy == null) {
                // transparent and excluded: the guest's bytes go to the address it chose, unchanged
                Socket upstream;
                try {
                    upstream = open(name, origin.ip(), origin.port(), null);
                } catch (ProxyFailure e) {
                    failed(e);
                    HttpFraming.respond(out, e.status, e.getMessage(), true);
                    return;
                }
                try (upstream) {
                    upstream.getOutputStream().write(head.raw);
                    splice(guest, in, upstream);
                }
                return;
            }
            if (!forward(head, url, in, out, proxy != null ? routing.client(proxy) : httpClients.direct(), proxy)) {
                return;
            }
            head = null;
        }
    }

    /** Sends one request with OkHttp and copies the answer to the guest; false when the connection must close. */
    private boolean forward(RequestHead head, HttpUrl url, InputStream in, OutputStream out, OkHttpClient client,
                            ProxyServer proxy) throws IOException {
        String transferEncoding = head.header("Transfer-Encoding");
        boolean chunked = transferEncoding != null && transferEncoding.strip().equalsIgnoreCase("chunked");
        if (transferEncoding != null && !chunked) {
            HttpFraming.respond(out, 501, "Slipway's transparent proxy takes request bodies with a Content-Length or chunked, not \""
                    + transferEncoding + "\"", true);
            return false;
        }
        long length;
        try {
            String cl = head.header("Content-Length");
            // with both, chunked decides (RFC 9112 6.3) and the connection closes after the exchange
            length = chunked ? -1 : cl == null ? 0 : Long.parseLong(cl.strip());
            if (length < 0 && !chunked) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            HttpFraming.respond(out, 400, "bad Content-Length", true);
            return false;
        }
        Request.Builder b = new Request.Builder().url(url);
        boolean acceptEncoding = false;
        try {
            for (String[] h : head.headers) {
                String lower = h[0].toLowerCase(Locale.ROOT);
                if (!HttpFraming.HOP_BY_HOP.contains(lower)) {
                    b.addHeader(h[0], h[1]);
                    acceptEncoding |= lower.equals("accept-encoding");
                }
            }
        } catch (IllegalArgumentException e) {
            HttpFraming.respond(out, 400, "a header OkHttp cannot send: " + e.getMessage(), true);
            return false;
        }
        if (!acceptEncoding) {
            b.header("Accept-Encoding", "identity"); // keep OkHttp from decompressing on the guest's behalf
        }
        if (proxy != null && proxy.hasCredentials()) {
            b.header("Proxy-Authorization", HttpFraming.basic(proxy));
        }
        RequestBody body = null;
        boolean requiresBody = Set.of("POST", "PUT", "PATCH", "PROPPATCH", "REPORT").contains(head.method);
        if (length != 0 || requiresBody) {
            if (head.method.equals("GET") || head.method.equals("HEAD")) {
                HttpFraming.respond(out, 400, head.method + " requests carry no body", true);
                return false;
            }
            body = new HttpFraming.StreamBody(chunked ? new ChunkedInput(in) : in, length, head.header("Content-Type"));
        }
        b.method(head.method, body);
        Call call = client.newCall(b.build());
        boolean close = head.wantsClose() || chunked && head.header("Content-Length") != null;
        try (Response response = call.execute()) {
            if (response.code() == 407) {
                fail("the proxy " + (proxy == null ? "" : proxy.host() + ":" + proxy.port()) + " asks for credentials ("
                        + (proxy != null && proxy.hasCredentials() ? "the configured ones were refused" : "none are configured") + ")");
            }
            if (proxy != null) {
                viaProxy.incrementAndGet();
            } else {
                direct.incrementAndGet();
            }
            HttpFraming.writeResponse(head, response, out, close);
        } catch (IOException e) {
            if (e instanceof ChunkedInput.Malformed || e.getCause() instanceof ChunkedInput.Malformed) {
                HttpFraming.respond(out, 400, (e instanceof ChunkedInput.Malformed ? e : e.getCause()).getMessage(), true);
                return false;
            }
            if (MetadataFilter.refusal(e) != null) {
                HttpFraming.respond(out, 403, refusedMetadata(url.host()).getMessage(), true);
                return false;
            }
            String where = proxy != null ? "through the proxy " + proxy.host() + ":" + proxy.port() : "directly";
            String reason = "cannot get " + url.redact() + " " + where + ": " + e.getMessage();
            fail(reason);
            HttpFraming.respond(out, 502, reason, true);
            return false;
        }
        return !close;
    }

    // ------------------------------------------------------------------ splicing

    /** Copies both ways until both sides finished, half-closing as each ends; bounded by the idle timeout. */
    private void splice(GuestConnection guest, InputStream guestIn, Socket upstream) throws IOException {
        long idle = limits.idle().toNanos();
        AtomicLong lastActive = new AtomicLong(System.nanoTime());
        int poll = (int) Math.min(limits.idle().toMillis(), 5_000);
        guest.readTimeout(poll);
        upstream.setSoTimeout(poll);
        Future<?> up;
        try {
            up = pool.submit(() -> {
                Pump.copy(guestIn, upstream.getOutputStream(), upstream::shutdownOutput, upstream, lastActive, idle);
                return null;
            });
        } catch (RejectedExecutionException e) {
            rejectedBusy.incrementAndGet();
            fail("too many intercepted connections at once (" + limits.maxThreads() + " threads busy)");
            return;
        }
        try {
            Pump.copy(upstream.getInputStream(), guest.output(), guest::shutdownOutput, guest::abort, lastActive, idle);
        } catch (IOException e) {
            up.cancel(true);
            closeQuietly(upstream);
            throw e;
        }
        try {
            up.get(limits.idle().toMillis() + 10_000, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            up.cancel(true);
        }
    }

    // ------------------------------------------------------------------ helpers

    private void fail(String reason) {
        failures.incrementAndGet();
        lastFailure = reason;
        LOG.warn("transparent proxy: {}", reason);
    }

    static String ipText(int ip) {
        return (ip >>> 24) + "." + (ip >>> 16 & 255) + "." + (ip >>> 8 & 255) + "." + (ip & 255);
    }

    static InetAddress toInet(int ip) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String describe(Origin o) {
        return o.mode() == Mode.EXPLICIT ? "explicit proxy" : ipText(o.ip()) + ":" + o.port();
    }

    private static void closeQuietly(java.io.Closeable s) {
        try {
            s.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() {
        open = false;
        pool.shutdownNow();
    }
}

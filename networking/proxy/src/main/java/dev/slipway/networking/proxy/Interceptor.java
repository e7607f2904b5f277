package dev.slipway.networking.proxy;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
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
import okhttp3.Credentials;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSink;

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
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "proxy-connection", "keep-alive", "te", "trailer",
            "transfer-encoding", "upgrade", "proxy-authorization", "proxy-authenticate", "host", "content-length");

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
                req.append("Proxy-Authorization: ").append(basic(proxy)).append("\r\n");
            }
            req.append("\r\n");
            s.getOutputStream().write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            String head = readResponseHead(s.getInputStream());
            int status = statusOf(head);
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

    private static String readResponseHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(256);
        int last = 0;
        while (last != 0x0d0a0d0a && (last & 0xffff) != 0x0a0a) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the proxy closed the connection before answering");
            }
            if (b.size() >= RequestHead.MAX_BYTES) {
                throw new IOException("the proxy's answer header is too large");
            }
            b.write(c);
            last = last << 8 | c;
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static int statusOf(String head) {
        String[] parts = head.split(" ", 3);
        try {
            return parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1].strip()) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    // ------------------------------------------------------------------ explicit proxy on the gateway

    private void explicit(GuestConnection guest) throws IOException {
        BufferedInputStream in = new BufferedInputStream(guest.input());
        RequestHead head;
        try {
            head = RequestHead.read(in);
        } catch (RequestHead.BadRequest e) {
            respond(guest.output(), 400, e.getMessage(), true);
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
        int port = portOf(head.target);
        if (metadata.refusesLiteral(host)) {
            respond(guest.output(), 403, refusedMetadata(host).getMessage(), true);
            return;
        }
        int[] literal = NoProxy.cidr(host);
        String name = literal != null ? host : ClientHello.hostName(host);
        if (name == null || port <= 0) {
            respond(guest.output(), 400, "CONNECT needs host:port, got " + head.target, true);
            return;
        }
        Routing routing = router.routing();
        String refusal = routing.refusal(name, literal == null ? null : toInet(literal[0]), port, ConnectionPolicy.Source.PROXY_CONNECT);
        if (refusal != null) {
            refusedByPolicy.incrementAndGet();
            respond(guest.output(), 403, refusal, true);
            return;
        }
        Socket upstream;
        try {
            upstream = open(name, literal == null ? 0 : literal[0], port, routing.tlsProxy(name, literal == null ? 0 : literal[0], port));
        } catch (ProxyFailure e) {
            failed(e);
            respond(guest.output(), e.status, e.getMessage(), true);
            return;
        }
        try (upstream) {
            guest.output().write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            splice(guest, in, upstream);
        }
    }

    private static int portOf(String authority) {
        int colon = authority.lastIndexOf(':');
        try {
            int p = colon < 0 ? -1 : Integer.parseInt(authority.substring(colon + 1));
            return p > 0 && p < 65536 ? p : -1;
        } catch (NumberFormatException e) {
            return -1;
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
                    respond(out, 400, e.getMessage(), true);
                    return;
                }
                if (head == null) {
                    return;
                }
            }
            HttpUrl url = urlOf(head, origin);
            if (url == null) {
                respond(out, 400, "cannot tell the destination of \"" + head.method + " " + head.target + "\"", true);
                return;
            }
            String name = url.host().toLowerCase(Locale.ROOT);
            int[] literal = NoProxy.cidr(name);
            int ip = origin != null ? origin.ip() : literal != null ? literal[0] : 0;
            String refusedAs = metadata.refusesLiteral(name) ? name : ip != 0 && metadata.refuses(toInet(ip)) ? ipText(ip) : null;
            if (refusedAs != null) {
                respond(out, 403, refusedMetadata(refusedAs).getMessage(), true);
                return;
            }
            Routing routing = router.routing();
            String refusal = routing.refusal(name, ip == 0 ? null : toInet(ip), url.port(), ConnectionPolicy.Source.HTTP_HOST);
            if (refusal != null) {
                refusedByPolicy.incrementAndGet();
                LOG.warn("refused HTTP request to {}: {}", name, refusal);
                respond(out, 403, refusal, true);
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
                    respond(out, e.status, e.getMessage(), true);
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

    private HttpUrl urlOf(RequestHead head, Origin origin) {
        if (head.target.startsWith("http://")) {
            return HttpUrl.parse(head.target);
        }
        if (origin == null || !head.target.startsWith("/")) {
            return null;
        }
        String name = head.hostName();
        String host = name != null ? name : ipText(origin.ip());
        int port = name != null ? head.hostPort(origin.port()) : origin.port();
        return HttpUrl.parse("http://" + host + ":" + port + head.target);
    }

    /** Sends one request with OkHttp and copies the answer to the guest; false when the connection must close. */
    private boolean forward(RequestHead head, HttpUrl url, InputStream in, OutputStream out, OkHttpClient client,
                            ProxyServer proxy) throws IOException {
        String transferEncoding = head.header("Transfer-Encoding");
        boolean chunked = transferEncoding != null && transferEncoding.strip().equalsIgnoreCase("chunked");
        if (transferEncoding != null && !chunked) {
            respond(out, 501, "Slipway's transparent proxy takes request bodies with a Content-Length or chunked, not \""
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
            respond(out, 400, "bad Content-Length", true);
            return false;
        }
        Request.Builder b = new Request.Builder().url(url);
        boolean acceptEncoding = false;
        try {
            for (String[] h : head.headers) {
                String lower = h[0].toLowerCase(Locale.ROOT);
                if (!HOP_BY_HOP.contains(lower)) {
                    b.addHeader(h[0], h[1]);
                    acceptEncoding |= lower.equals("accept-encoding");
                }
            }
        } catch (IllegalArgumentException e) {
            respond(out, 400, "a header OkHttp cannot send: " + e.getMessage(), true);
            return false;
        }
        if (!acceptEncoding) {
            b.header("Accept-Encoding", "identity"); // keep OkHttp from decompressing on the guest's behalf
        }
        if (proxy != null && proxy.hasCredentials()) {
            b.header("Proxy-Authorization", basic(proxy));
        }
        RequestBody body = null;
        boolean requiresBody = Set.of("POST", "PUT", "PATCH", "PROPPATCH", "REPORT").contains(head.method);
        if (length != 0 || requiresBody) {
            if (head.method.equals("GET") || head.method.equals("HEAD")) {
                respond(out, 400, head.method + " requests carry no body", true);
                return false;
            }
            body = new StreamBody(chunked ? new ChunkedInput(in) : in, length, head.header("Content-Type"));
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
            writeResponse(head, response, out, close);
        } catch (IOException e) {
            if (e instanceof ChunkedInput.Malformed || e.getCause() instanceof ChunkedInput.Malformed) {
                respond(out, 400, (e instanceof ChunkedInput.Malformed ? e : e.getCause()).getMessage(), true);
                return false;
            }
            if (MetadataFilter.refusal(e) != null) {
                respond(out, 403, refusedMetadata(url.host()).getMessage(), true);
                return false;
            }
            String where = proxy != null ? "through the proxy " + proxy.host() + ":" + proxy.port() : "directly";
            String reason = "cannot get " + url.redact() + " " + where + ": " + e.getMessage();
            fail(reason);
            respond(out, 502, reason, true);
            return false;
        }
        return !close;
    }

    /** The guest's request body, streamed once from its connection: {@code length} bytes, or to its end when -1 (chunked, decoded). */
    private static final class StreamBody extends RequestBody {
        private final InputStream in;
        private final long length;
        private final MediaType type;

        StreamBody(InputStream in, long length, String contentType) {
            this.in = in;
            this.length = length;
            this.type = contentType == null ? null : MediaType.parse(contentType);
        }

        @Override
        public MediaType contentType() {
            return type;
        }

        @Override
        public long contentLength() {
            return length;
        }

        @Override
        public boolean isOneShot() {
            return true;
        }

        @Override
        public void writeTo(BufferedSink sink) throws IOException {
            byte[] buf = new byte[16384];
            if (length < 0) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    sink.write(buf, 0, n);
                }
                return;
            }
            for (long left = length; left > 0; ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IOException("the guest's request body ended early");
                }
                sink.write(buf, 0, n);
                left -= n;
            }
        }
    }

    private static void writeResponse(RequestHead request, Response response, OutputStream out, boolean close) throws IOException {
        int code = response.code();
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(code).append(' ')
                .append(response.message().isEmpty() ? "Status" : response.message()).append("\r\n");
        Headers headers = response.headers();
        for (int i = 0; i < headers.size(); i++) {
            if (!HOP_BY_HOP.contains(headers.name(i).toLowerCase(Locale.ROOT))) {
                h.append(headers.name(i)).append(": ").append(headers.value(i)).append("\r\n");
            }
        }
        boolean noBody = request.method.equals("HEAD") || code / 100 == 1 || code == 204 || code == 304;
        ResponseBody body = response.body();
        long length = noBody ? 0 : body.contentLength();
        if (!noBody) {
            h.append(length >= 0 ? "Content-Length: " + length + "\r\n" : "Transfer-Encoding: chunked\r\n");
        } else if (request.method.equals("HEAD") && headers.get("Content-Length") != null) {
            h.append("Content-Length: ").append(headers.get("Content-Length")).append("\r\n");
        }
        if (close) {
            h.append("Connection: close\r\n");
        }
        h.append("\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (!noBody) {
            byte[] buf = new byte[65536];
            try (InputStream from = body.byteStream()) {
                for (int n; (n = from.read(buf)) >= 0; ) {
                    if (n == 0) {
                        continue;
                    }
                    if (length < 0) {
                        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                        out.write(buf, 0, n);
                        out.write(CRLF);
                    } else {
                        out.write(buf, 0, n);
                    }
                }
            }
            if (length < 0) {
                out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        out.flush();
    }

    private static final byte[] CRLF = {'\r', '\n'};

    /** A short text answer made by Slipway itself (errors, refusals). */
    static void respond(OutputStream out, int status, String reason, boolean close) throws IOException {
        String text = switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 407 -> "Proxy Authentication Required";
            case 411 -> "Length Required";
            case 501 -> "Not Implemented";
            default -> "Bad Gateway";
        };
        byte[] body = ("Slipway: " + reason + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + text + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + body.length + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n";
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
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
                copy(guestIn, upstream.getOutputStream(), upstream::shutdownOutput, upstream, lastActive, idle);
                return null;
            });
        } catch (RejectedExecutionException e) {
            rejectedBusy.incrementAndGet();
            fail("too many intercepted connections at once (" + limits.maxThreads() + " threads busy)");
            return;
        }
        try {
            copy(upstream.getInputStream(), guest.output(), guest::shutdownOutput, guest::abort, lastActive, idle);
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

    /** How a copy half-closes its destination at the end of the stream. */
    private interface Shutdown {
        void shutdown() throws IOException;
    }

    private static void copy(InputStream from, OutputStream out, Shutdown end, java.io.Closeable onFailure, AtomicLong lastActive,
                             long idleNanos) throws IOException {
        byte[] buf = new byte[65536];
        try {
            while (true) {
                int n;
                try {
                    n = from.read(buf);
                } catch (SocketTimeoutException e) {
                    if (System.nanoTime() - lastActive.get() > idleNanos) {
                        throw new IOException("idle for longer than " + idleNanos / 1_000_000_000L + " s");
                    }
                    continue;
                }
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                lastActive.set(System.nanoTime());
            }
            end.shutdown();
        } catch (IOException e) {
            closeQuietly(onFailure);
            throw e;
        }
    }

    // ------------------------------------------------------------------ helpers

    private void fail(String reason) {
        failures.incrementAndGet();
        lastFailure = reason;
        LOG.warn("transparent proxy: {}", reason);
    }

    private static String basic(ProxyServer proxy) {
        return Credentials.basic(proxy.user(), proxy.password() == null ? "" : proxy.password(), StandardCharsets.UTF_8);
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

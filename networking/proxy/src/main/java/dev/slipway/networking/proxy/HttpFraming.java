package dev.slipway.networking.proxy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;

import dev.slipway.api.proxy.ProxyServer;
import dev.slipway.networking.proxy.ProxyRouter.Origin;
import okhttp3.Credentials;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSink;

/**
 * HTTP/1.1 framing for the {@link Interceptor}: the destination of a request head, request bodies
 * streamed from the guest, responses written back to it (OkHttp's or Slipway's own), and the
 * upstream proxy's answer to CONNECT.
 */
final class HttpFraming {
    static final Set<String> HOP_BY_HOP = Set.of("connection", "proxy-connection", "keep-alive", "te", "trailer",
            "transfer-encoding", "upgrade", "proxy-authorization", "proxy-authenticate", "host", "content-length");

    private HttpFraming() {
    }

    static HttpUrl urlOf(RequestHead head, Origin origin) {
        if (head.target.startsWith("http://")) {
            return HttpUrl.parse(head.target);
        }
        if (origin == null || !head.target.startsWith("/")) {
            return null;
        }
        String name = head.hostName();
        String host = name != null ? name : Interceptor.ipText(origin.ip());
        int port = name != null ? head.hostPort(origin.port()) : origin.port();
        return HttpUrl.parse("http://" + host + ":" + port + head.target);
    }

    static String readResponseHead(InputStream in) throws IOException {
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

    static int statusOf(String head) {
        String[] parts = head.split(" ", 3);
        try {
            return parts.length >= 2 && parts[0].startsWith("HTTP/") ? Integer.parseInt(parts[1].strip()) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static int portOf(String authority) {
        int colon = authority.lastIndexOf(':');
        try {
            int p = colon < 0 ? -1 : Integer.parseInt(authority.substring(colon + 1));
            return p > 0 && p < 65536 ? p : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The guest's request body, streamed once from its connection: {@code length} bytes, or to its end when -1 (chunked, decoded). */
    static final class StreamBody extends RequestBody {
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

    static void writeResponse(RequestHead request, Response response, OutputStream out, boolean close) throws IOException {
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

    static String basic(ProxyServer proxy) {
        return Credentials.basic(proxy.user(), proxy.password() == null ? "" : proxy.password(), StandardCharsets.UTF_8);
    }

}

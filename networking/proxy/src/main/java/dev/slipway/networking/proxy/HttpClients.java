package dev.slipway.networking.proxy;

import java.time.Duration;
import java.util.function.Supplier;

import okhttp3.OkHttpClient;

/**
 * The proxy's OkHttp clients, built on first use: building one loads OkHttp, Kotlin and the
 * platform's TLS trust store, which costs a runtime start a few hundred milliseconds while most
 * runs never send a guest request through an upstream proxy.
 */
final class HttpClients {

    private final Duration connectTimeout;
    private final MetadataFilter metadata;
    private final Supplier<OkHttpClient> base = new Memo<>(this::buildBase);
    private final Supplier<OkHttpClient> direct = new Memo<>(this::buildDirect);

    HttpClients(Duration connectTimeout, MetadataFilter metadata) {
        this.connectTimeout = connectTimeout;
        this.metadata = metadata;
    }

    /** The client every proxied request derives from. */
    OkHttpClient base() {
        return base.get();
    }

    /**
     * The client for requests that go straight to their origin: its name lookup drops refused
     * addresses (cloud metadata) and its sockets will not connect to one, which also covers
     * address literals (OkHttp does not look those up).
     */
    OkHttpClient direct() {
        return direct.get();
    }

    void close() {
        Memo<OkHttpClient> built = (Memo<OkHttpClient>) base;
        if (built.isBuilt()) {
            OkHttpClient client = built.get();
            client.dispatcher().executorService().shutdown();
            client.connectionPool().evictAll();
        }
    }

    private OkHttpClient buildBase() {
        return new OkHttpClient.Builder()
                .connectTimeout(connectTimeout)
                .readTimeout(Duration.ofSeconds(60))
                .writeTimeout(Duration.ofSeconds(60))
                .followRedirects(false)
                .followSslRedirects(false)
                .retryOnConnectionFailure(true) // a pooled proxy connection may have been closed; one-shot bodies are never re-sent
                .build();
    }

    private OkHttpClient buildDirect() {
        return base().newBuilder().proxy(java.net.Proxy.NO_PROXY).dns(metadata::lookup)
                .socketFactory(metadata.socketFactory()).build();
    }

    /** A value computed once, on first use, by whichever thread asks first. */
    private static final class Memo<T> implements Supplier<T> {
        private final Supplier<T> compute;
        private volatile T value;

        Memo(Supplier<T> compute) {
            this.compute = compute;
        }

        @Override
        public T get() {
            T v = value;
            if (v == null) {
                synchronized (this) {
                    v = value;
                    if (v == null) {
                        v = compute.get();
                        value = v;
                    }
                }
            }
            return v;
        }

        boolean isBuilt() {
            return value != null;
        }
    }
}

package dev.slipway.networking.ports;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import dev.slipway.unixhttp.UnixDomainSocketFactory;

/**
 * Publishes the engine's container ports on the host by themselves: follows the engine's
 * {@code /events} and, at every container event and at every (re)connection, lists the running
 * containers and makes the published ports match their bindings. A binding {@code HOSTPORT:PORT}
 * becomes host {@code 127.0.0.1:HOSTPORT} (all addresses only when the engine binds all addresses
 * and the user allows it: {@code allowAllAddresses} of the ports settings) carried to the guest's
 * {@code HOSTPORT}, where the engine's own docker-proxy and NAT rules take it to the container. A
 * binding on one address ({@code 127.0.0.1:HOSTPORT:PORT}) is on that loopback address of the host
 * and carried through the guest to the container's own address and {@code PORT} (see {@link #wanted}).
 * Ports below 1024 go through the helper's {@code ports.bind} as every published port does. A host
 * port that cannot be had leaves the container running and is a conflict: logged, shown by
 * {@code slipway ports}, tried again at the next sync. Only publications made here are ever removed.
 */
final class EnginePorts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EnginePorts.class);
    static final String OWNER = "engine";

    private final PortForwarder forwarder;
    private final String guestAddress;
    private final OkHttpClient http;
    private final Thread thread;
    private final Duration retry;
    /** Guarded by {@code this}: the publications this follower made, by key. */
    private final Map<String, PublishedPort> mine = new LinkedHashMap<>();
    private volatile boolean running = true;
    private volatile Call events;
    private volatile int syncs;
    private final Thread retrier;
    /** Guarded by {@code this}: keys asked for that could not be published at the last sync. */
    private final Set<String> conflicted = new LinkedHashSet<>();
    /** Guarded by {@code this}: whether the event stream is open (the list is current). */
    private boolean following;
    /** Guarded by {@code this}: when the last container event arrived ({@link System#nanoTime()}). */
    private long lastEvent = System.nanoTime() - SETTLE_NANOS;
    static final long SETTLE_NANOS = 10_000_000_000L;
    private boolean unreachable;

    /**
     * @param engineSocket the host's engine socket (the engine channel's client side)
     * @param guestAddress the VM's address on Slipway's network, where the engine binds host ports
     */
    EnginePorts(PortForwarder forwarder, Path engineSocket, String guestAddress, Duration retry) {
        this.forwarder = forwarder;
        this.guestAddress = guestAddress;
        this.retry = retry;
        this.http = new OkHttpClient.Builder().socketFactory(new UnixDomainSocketFactory(engineSocket))
                .dns(hostname -> List.of(java.net.InetAddress.getLoopbackAddress()))
                .connectTimeout(Duration.ofSeconds(5)).readTimeout(Duration.ZERO).callTimeout(Duration.ZERO)
                .retryOnConnectionFailure(false).build();
        this.thread = new Thread(this::follow, "slipway-engine-ports");
        thread.setDaemon(true);
        thread.start();
        this.retrier = new Thread(this::retryConflicts, "slipway-engine-ports-retry");
        retrier.setDaemon(true);
        retrier.start();
    }

    /**
     * A port that was taken may be free now, and a list taken right at an event may not show it yet:
     * while there are conflicts, and for a few seconds after each event, the bindings are made again.
     */
    private void retryConflicts() {
        while (running) {
            sleep(retry.multipliedBy(2));
            boolean again;
            synchronized (this) {
                // the engine's list can lag its events by a moment: look again for a while after each one
                again = running && following && (!conflicted.isEmpty() || System.nanoTime() - lastEvent < SETTLE_NANOS);
            }
            if (again) {
                try {
                    sync();
                } catch (IOException | RuntimeException e) {
                    LOG.debug("retrying the engine's ports failed", e);
                }
            }
        }
    }

    /** How many times the published ports were made to match the engine (tests wait on it). */
    int syncs() {
        return syncs;
    }

    private static HttpUrl url(String path) {
        return HttpUrl.get("http://engine" + path);
    }

    private void follow() {
        while (running) {
            try {
                // the stream first, then the list: no event between the two is missed
                Request request = new Request.Builder().url(url("/events?filters="
                        + java.net.URLEncoder.encode("{\"type\":[\"container\",\"network\"]}", StandardCharsets.UTF_8))).build();
                Call call = http.newCall(request);
                events = call;
                try (Response response = call.execute()) {
                    if (!response.isSuccessful()) {
                        throw new IOException("/events answered " + response.code());
                    }
                    sync();
                    synchronized (this) {
                        following = true;
                    }
                    if (unreachable) {
                        LOG.info("following the engine's events");
                        unreachable = false;
                    }
                    BufferedReader lines = new BufferedReader(new InputStreamReader(response.body().byteStream(),
                            StandardCharsets.UTF_8));
                    for (String line = lines.readLine(); running && line != null; line = lines.readLine()) {
                        if (changesPorts(line)) {
                            synchronized (this) {
                                lastEvent = System.nanoTime();
                            }
                            sync();
                        }
                    }
                }
                if (running) {
                    LOG.info("the engine's event stream ended (engine restarting?); following it again");
                }
            } catch (IOException | RuntimeException e) {
                if (running && !unreachable) {
                    LOG.info("the engine is not reachable ({}); trying again every {} ms", e.toString(), retry.toMillis());
                }
                unreachable = true;
            }
            synchronized (this) {
                following = false;
            }
            if (running) {
                // the engine is gone for now: what it published is gone with it
                unpublishAll();
                sleep(retry);
            }
        }
    }

    static boolean changesPorts(String eventLine) {
        try {
            JsonElement e = JsonParser.parseString(eventLine);
            if (!e.isJsonObject()) {
                return false;
            }
            // network events name what happened only in Action; container events in both
            JsonElement action = e.getAsJsonObject().get("Action");
            if (action == null) {
                action = e.getAsJsonObject().get("status");
            }
            String s = action == null ? "" : action.getAsString();
            // a container joining or leaving a network can move its port mappings to another of its addresses
            return s.equals("start") || s.equals("die") || s.equals("stop") || s.equals("kill") || s.equals("destroy")
                    || s.equals("pause") || s.equals("unpause") || s.equals("restart") || s.equals("connect")
                    || s.equals("disconnect");
        } catch (RuntimeException notJson) {
            return false;
        }
    }

    /** Makes the publications match the running containers' bindings (one sync at a time, newest list last). */
    synchronized void sync() throws IOException {
        Request request = new Request.Builder().url(url("/containers/json")).build();
        String body;
        Call list = http.newCall(request);
        list.timeout().timeout(30, TimeUnit.SECONDS);
        try (Response response = list.execute()) {
            if (!response.isSuccessful()) {
                throw new IOException("/containers/json answered " + response.code());
            }
            body = response.body().string();
        }
        Map<String, Wanted> wanted = wanted(JsonParser.parseString(body).getAsJsonArray(), forwarder.allowAllAddresses(),
                guestAddress);
        {
            for (String key : new ArrayList<>(mine.keySet())) {
                PublishedPort p = mine.get(key);
                Wanted w = wanted.get(key);
                if (w == null || !w.port().equals(p)) {
                    unpublish(key);
                }
            }
            Set<String> conflicts = new LinkedHashSet<>();
            for (Map.Entry<String, Wanted> w : wanted.entrySet()) {
                if (mine.containsKey(w.getKey())) {
                    continue;
                }
                PublishedPort p = w.getValue().port();
                try {
                    forwarder.expose(p, true, false);
                    mine.put(w.getKey(), p);
                    forwarder.clearConflict(w.getKey());
                    LOG.info("container {}: published {} {} -> {}", w.getValue().container(), p.protocol(), p.local(),
                            p.shownRemote());
                } catch (IOException | RuntimeException e) {
                    String why = e instanceof IllegalStateException ? "already published (by hand or by another container)"
                            : e.getMessage();
                    if (forwarder.setConflict(w.getKey(), "container " + w.getValue().container() + " wants " + p.protocol()
                            + " " + p.local() + ": " + why)) {
                        LOG.warn("container {}: cannot publish {} {}: {}; the container runs without it",
                                w.getValue().container(), p.protocol(), p.local(), why);
                    }
                    conflicts.add(w.getKey());
                }
            }
            forwarder.retainConflicts(conflicts);
            conflicted.clear();
            conflicted.addAll(conflicts);
        }
        syncs++;
    }

    record Wanted(PublishedPort port, String container) {}

    /**
     * The publications the containers' bindings ask for, by key (IPv6 duplicates of a binding folded).
     * A binding on all addresses is carried to the guest's own address and the binding's host port,
     * where the engine's NAT and docker-proxy take it. A binding on one address ({@code -p
     * 127.0.0.1:8080:80}) is taken by the engine on that address of the guest only, so it is carried
     * to the container's own address and port through the guest (which forwards it over its bridge);
     * on the host it is the same loopback address ({@code 127.0.0.1}, {@code [::1]}), or
     * {@code 127.0.0.1} for an address that is not a loopback one.
     */
    static Map<String, Wanted> wanted(JsonArray containers, boolean allowAllAddresses, String guestAddress) {
        Map<String, Wanted> wanted = new LinkedHashMap<>();
        for (JsonElement c : containers) {
            JsonObject container = c.getAsJsonObject();
            String name = container.has("Names") && container.getAsJsonArray("Names").size() > 0
                    ? container.getAsJsonArray("Names").get(0).getAsString().replaceFirst("^/", "")
                    : shortId(container.get("Id").getAsString());
            JsonArray ports = container.has("Ports") && container.get("Ports").isJsonArray() ? container.getAsJsonArray("Ports")
                    : new JsonArray();
            for (JsonElement pe : ports) {
                JsonObject port = pe.getAsJsonObject();
                if (!port.has("PublicPort")) {
                    continue;
                }
                int hostPort = port.get("PublicPort").getAsInt();
                String protocol = port.has("Type") ? port.get("Type").getAsString() : "tcp";
                if (!protocol.equals(PublishedPort.TCP) && !protocol.equals(PublishedPort.UDP)) {
                    continue;
                }
                String ip = port.has("IP") ? port.get("IP").getAsString() : "";
                PublishedPort p;
                if (ip.isEmpty() || ip.equals("0.0.0.0") || ip.equals("::")) {
                    String host = allowAllAddresses ? "0.0.0.0" : "127.0.0.1";
                    p = new PublishedPort(protocol, host + ":" + hostPort, guestAddress + ":" + hostPort);
                } else {
                    String host = loopbackHost(ip);
                    String containerAddress = containerAddress(container);
                    if (host == null || containerAddress == null || !port.has("PrivatePort")) {
                        LOG.debug("container {}: {} binding on {} left alone ({})", name, protocol, ip,
                                host == null ? "an IPv6 address that is not ::1" : "no IPv4 address to reach it at");
                        continue;
                    }
                    p = new PublishedPort(protocol, host + ":" + hostPort,
                            containerAddress + ":" + port.get("PrivatePort").getAsInt(), guestAddress);
                }
                wanted.putIfAbsent(p.key(), new Wanted(p, name));
            }
        }
        return wanted;
    }

    /**
     * The host address for a binding on one address: a loopback address as given (IPv6 in
     * brackets), {@code 127.0.0.1} for any other IPv4 address, null for any other IPv6 one.
     */
    static String loopbackHost(String ip) {
        java.net.InetAddress address = PublishedPort.literal(ip);
        if (address instanceof java.net.Inet6Address) {
            return address.isLoopbackAddress() ? "[::1]" : null;
        }
        return address != null && address.isLoopbackAddress() ? address.getHostAddress() : "127.0.0.1";
    }

    /**
     * The container's IPv4 address where the engine's port mappings go: the engine maps a container's
     * ports on its gateway network, the one first by priority ({@code GwPriority}, highest first),
     * then with a gateway, then by name; null when it has no IPv4 address.
     */
    static String containerAddress(JsonObject container) {
        JsonObject settings = object(container, "NetworkSettings");
        JsonObject networks = settings == null ? null : object(settings, "Networks");
        if (networks == null) {
            return null;
        }
        String best = null;
        long bestRank = Long.MAX_VALUE;
        String bestName = null;
        for (String network : networks.keySet()) {
            JsonObject endpoint = object(networks, network);
            String address = ipv4(endpoint);
            if (address == null) {
                continue;
            }
            long priority = endpoint.get("GwPriority") instanceof com.google.gson.JsonPrimitive p && p.isNumber()
                    ? p.getAsInt() : 0;
            boolean gateway = endpoint.get("Gateway") instanceof com.google.gson.JsonPrimitive g && !g.getAsString().isEmpty();
            long rank = -2 * priority + (gateway ? 0 : 1);
            if (rank < bestRank || rank == bestRank && network.compareTo(bestName) < 0) {
                best = address;
                bestRank = rank;
                bestName = network;
            }
        }
        return best;
    }

    private static String ipv4(JsonObject endpoint) {
        if (endpoint == null || !(endpoint.get("IPAddress") instanceof com.google.gson.JsonPrimitive a)) {
            return null;
        }
        return PublishedPort.literal(a.getAsString()) instanceof java.net.Inet4Address v4 ? v4.getHostAddress() : null;
    }

    private static JsonObject object(JsonObject o, String member) {
        JsonElement e = o.get(member);
        return e != null && e.isJsonObject() ? e.getAsJsonObject() : null;
    }

    private static String shortId(String id) {
        return id.substring(0, Math.min(12, id.length()));
    }

    private void unpublish(String key) {
        PublishedPort p = mine.remove(key);
        if (p == null) {
            return;
        }
        try {
            forwarder.unexpose(p.protocol(), p.local());
            LOG.info("unpublished {} {}", p.protocol(), p.local());
        } catch (IOException | IllegalStateException e) {
            LOG.debug("{} already unpublished", key, e);
        }
    }

    private synchronized void unpublishAll() {
        for (String key : new ArrayList<>(mine.keySet())) {
            unpublish(key);
        }
        forwarder.retainConflicts(Set.of());
        conflicted.clear();
    }

    private static void sleep(Duration d) {
        try {
            TimeUnit.MILLISECONDS.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The publications this follower made. */
    synchronized List<PublishedPort> published() {
        return List.copyOf(mine.values());
    }

    @Override
    public void close() {
        running = false;
        Call c = events;
        if (c != null) {
            c.cancel();
        }
        thread.interrupt();
        retrier.interrupt();
        try {
            thread.join(2000);
            retrier.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        unpublishAll();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }
}

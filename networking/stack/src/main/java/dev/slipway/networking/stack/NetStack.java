package dev.slipway.networking.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.slipway.dns.api.DnsService;
import dev.slipway.networking.api.CidrList;
import dev.slipway.networking.stack.transport.FrameReceiver;
import dev.slipway.networking.stack.transport.Transport;

/**
 * The guest network: a virtual switch whose gateway port terminates the guests' Ethernet frames
 * and re-originates their TCP and UDP traffic from ordinary host sockets.
 *
 * <p>Threads: one reader per transport plus one event loop for the host sockets and timers. All
 * state is guarded by one lock; frames are built in one direct output buffer under it, so the
 * steady state allocates nothing.
 */
public final class NetStack implements AutoCloseable {
    static final int ETH_HLEN = 14;
    static final int IP_OFF = ETH_HLEN;
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_ARP = 0x0806;
    static final int ETHERTYPE_IPV6 = 0x86dd;
    static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    static final int MAX_FRAME = ETH_HLEN + 65535;
    private static final int TICK_MILLIS = 20;
    private static final int LOCK_SPINS = 200;
    private static final int KEYS_PER_LOCK_HOLD = 32;
    private static final int MAX_MAC_ENTRIES = 256;
    private static final Logger LOG = LoggerFactory.getLogger(NetStack.class);

    final NetConfig config;
    /** Cloud metadata and the like: refused for every protocol, as early as the destination is known. */
    final CidrList refused;
    final ReentrantLock lock = new ReentrantLock();
    final Selector selector;
    final Stats stats = new Stats();
    /** The one frame we build into; only used with the lock held. */
    final ByteBuffer out = ByteBuffer.allocateDirect(MAX_FRAME + 64);
    /** A second frame for fragments and ICMP errors built from {@link #out}. */
    final ByteBuffer aux = ByteBuffer.allocateDirect(MAX_FRAME + 64);
    final IntLongMap arp = new IntLongMap(4096);
    final Dhcp dhcp;
    final Tcp tcp;
    final Udp udp;
    final Reassembler reassembler;
    private final long[] macs = new long[MAX_MAC_ENTRIES];
    private final GuestPort[] macPorts = new GuestPort[MAX_MAC_ENTRIES];
    private int macCount;
    private final List<GuestPort> ports = new ArrayList<>();
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** The host sockets one select found ready; handled under one acquisition of the lock. */
    private final ArrayList<SelectionKey> readyKeys = new ArrayList<>();
    /**
     * A host socket was registered, or its interest grew, while a transport delivered frames: the
     * selector applies that only when it next selects, so the loop is woken once at the end of the
     * batch rather than once per connection.
     */
    private boolean loopWakeupPending;
    private final Thread loop;
    private volatile boolean running = true;
    private volatile FrameTap capture;
    volatile DnsService dns;
    volatile dev.slipway.networking.api.OutboundRouter router;
    /** While a frame is handled: the port it came from and whether its L4 checksum is left to us. */
    GuestPort currentPort;
    boolean l4ChecksumPending;
    /** While a frame is sent: its GSO segment size, 0 for an ordinary frame. */
    int gsoSize;
    private int ipId;
    private long lastSlowTick;
    private long errorsLogged;

    public NetStack(NetConfig config) {
        this.config = config;
        this.refused = config.refusedDestinations();
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector", e);
        }
        dhcp = new Dhcp(this);
        tcp = new Tcp(this);
        udp = new Udp(this);
        reassembler = new Reassembler(this, 16, 30_000);
        loop = new Thread(this::runLoop, "slipway-net-loop");
        loop.setDaemon(true);
        loop.start();
    }

    public NetConfig config() {
        return config;
    }

    /** Sets (or with {@code null} removes) the DNS service answering the gateway's port 53. */
    public void dns(DnsService service) {
        dns = service;
    }

    /** Sets the router consulted for every new guest TCP connection; null connects every one as asked. */
    public void router(dev.slipway.networking.api.OutboundRouter outboundRouter) {
        router = outboundRouter;
    }

    /** Starts (or with {@code null} stops) copying every switched frame to {@code tap}. */
    public void capture(FrameTap tap) {
        lock.lock();
        try {
            capture = tap;
        } finally {
            lock.unlock();
        }
    }

    /** Connects a guest: starts a reader thread for the transport. The port leaves the switch when the transport ends. */
    public void attach(Transport transport) {
        GuestPort port = new GuestPort(transport);
        lock.lock();
        try {
            ports.add(port);
        } finally {
            lock.unlock();
        }
        Thread reader = new Thread(() -> port.run(), "slipway-net-" + transport.name());
        reader.setDaemon(true);
        port.thread = reader;
        reader.start();
    }

    /** The names of the attached transports. */
    public List<String> transports() {
        lock.lock();
        try {
            List<String> names = new ArrayList<>();
            for (GuestPort p : ports) {
                names.add(p.name());
            }
            return names;
        } finally {
            lock.unlock();
        }
    }

    /** Receives one frame from {@code port} as if it came in on a transport (frame at index 0 to limit). */
    void receive(GuestPort port, ByteBuffer frame, boolean checksumPending) {
        lockQuickly();
        try {
            currentPort = port;
            l4ChecksumPending = checksumPending;
            switchFrame(port, frame);
        } catch (RuntimeException e) {
            stats.drop(Drop.TRANSPORT_ERROR);
            if (errorsLogged++ < 20) {
                LOG.warn("frame from {} dropped after an internal error", port.name(), e);
            }
        } finally {
            currentPort = null;
            l4ChecksumPending = false;
            lock.unlock();
        }
    }

    void endOfBatch() {
        lockQuickly();
        try {
            tcp.flush();
            if (loopWakeupPending) {
                loopWakeupPending = false;
                selector.wakeup();
            }
        } catch (RuntimeException e) {
            if (errorsLogged++ < 20) {
                LOG.warn("flushing connections failed", e);
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- switch

    private void switchFrame(GuestPort from, ByteBuffer f) {
        int len = f.limit();
        stats.rxFrames++;
        stats.rxBytes += len;
        if (len < ETH_HLEN) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        FrameTap c = capture;
        if (c != null) {
            f.position(0);
            c.frame(f, System.nanoTime());
            f.position(0).limit(len);
        }
        long dst = getMac(f, 0);
        long src = getMac(f, 6);
        if (!Mac.isGroup(src)) {
            learn(src, from);
        }
        if (dst == config.gatewayMac()) {
            local(from, f, len);
        } else if (Mac.isGroup(dst)) {
            flood(from, f, len);
            local(from, f, len);
        } else {
            GuestPort to = lookup(dst);
            if (to == null) {
                if (!flood(from, f, len)) {
                    stats.drop(Drop.NOT_FOR_US);
                }
            } else if (to != from) {
                forward(to, f, len);
            } else {
                stats.drop(Drop.NOT_FOR_US);
            }
        }
    }

    private boolean flood(GuestPort from, ByteBuffer f, int len) {
        boolean any = false;
        for (int i = 0; i < ports.size(); i++) {
            GuestPort p = ports.get(i);
            if (p != from) {
                forward(p, f, len);
                any = true;
            }
        }
        return any;
    }

    private void forward(GuestPort to, ByteBuffer f, int len) {
        f.limit(len).position(0);
        to.send(f);
        f.limit(len).position(0);
    }

    private void learn(long mac, GuestPort port) {
        for (int i = 0; i < macCount; i++) {
            if (macs[i] == mac) {
                macPorts[i] = port;
                return;
            }
        }
        if (macCount < MAX_MAC_ENTRIES) {
            macs[macCount] = mac;
            macPorts[macCount++] = port;
        }
    }

    private GuestPort lookup(long mac) {
        for (int i = 0; i < macCount; i++) {
            if (macs[i] == mac) {
                return macPorts[i];
            }
        }
        return null;
    }

    private void forget(GuestPort port) {
        int j = 0;
        for (int i = 0; i < macCount; i++) {
            if (macPorts[i] != port) {
                macs[j] = macs[i];
                macPorts[j++] = macPorts[i];
            }
        }
        for (int i = j; i < macCount; i++) {
            macPorts[i] = null;
        }
        macCount = j;
    }

    static long getMac(ByteBuffer b, int off) {
        return (b.getShort(off) & 0xffffL) << 32 | b.getInt(off + 2) & 0xffff_ffffL;
    }

    static void putMac(ByteBuffer b, int off, long mac) {
        b.putShort(off, (short) (mac >>> 32));
        b.putInt(off + 2, (int) mac);
    }

    // ---------------------------------------------------------------- gateway port

    private void local(GuestPort from, ByteBuffer f, int len) {
        int type = f.getShort(12) & 0xffff;
        switch (type) {
            case ETHERTYPE_ARP -> arp(from, f, len);
            case ETHERTYPE_IPV4 -> ipv4(f, len);
            case ETHERTYPE_IPV6 -> stats.drop(len >= IP_OFF + 40 && refused.containsIpv6(f.getLong(IP_OFF + 24), f.getLong(IP_OFF + 32))
                    ? Drop.METADATA_REFUSED : Drop.IPV6_UNSUPPORTED);
            default -> stats.drop(Drop.UNKNOWN_ETHERTYPE);
        }
    }

    private void arp(GuestPort from, ByteBuffer f, int len) {
        if (len < ETH_HLEN + 28) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        int a = ETH_HLEN;
        if (f.getShort(a) != 1 || f.getShort(a + 2) != ETHERTYPE_IPV4 || f.get(a + 4) != 6 || f.get(a + 5) != 4) {
            stats.drop(Drop.BAD_IP_HEADER);
            return;
        }
        int op = f.getShort(a + 6);
        long sha = getMac(f, a + 8);
        int spa = f.getInt(a + 14);
        int tpa = f.getInt(a + 24);
        if (spa != 0 && config.inSubnet(spa) && !Mac.isGroup(sha) && spa != config.gateway() && spa != config.hostAlias()) {
            arp.put(spa, sha);
        }
        if (op == 1 && (tpa == config.gateway() || tpa == config.hostAlias())) {
            f.putShort(a + 6, (short) 2);
            putMac(f, a + 18, sha);
            f.putInt(a + 24, spa);
            putMac(f, a + 8, config.gatewayMac());
            f.putInt(a + 14, tpa);
            putMac(f, 0, sha);
            putMac(f, 6, config.gatewayMac());
            f.limit(ETH_HLEN + 28).position(0);
            output(f, ETH_HLEN + 28);
        }
    }

    private void ipv4(ByteBuffer f, int len) {
        if (len < ETH_HLEN + 20) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        int vihl = f.get(IP_OFF) & 0xff;
        int ihl = (vihl & 15) * 4;
        if (vihl >> 4 != 4 || ihl < 20) {
            stats.drop(Drop.BAD_IP_HEADER);
            return;
        }
        int totalLen = f.getShort(IP_OFF + 2) & 0xffff;
        if (totalLen < ihl || ETH_HLEN + totalLen > len) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        if (Checksum.compute(f, IP_OFF, ihl) != 0) {
            stats.drop(Drop.BAD_IP_CHECKSUM);
            return;
        }
        int src = f.getInt(IP_OFF + 12);
        int dst = f.getInt(IP_OFF + 16);
        if (src != 0 && config.inSubnet(src) && src != config.gateway() && src != config.hostAlias()) {
            arp.put(src, getMac(f, 6));
        }
        int fragment = f.getShort(IP_OFF + 6) & 0xffff;
        if ((fragment & 0x3fff) != 0) {
            ByteBuffer whole = reassembler.add(f, ihl, totalLen, src, dst, fragment);
            if (whole != null) {
                try {
                    ipv4Packet(whole, 20, whole.getShort(IP_OFF + 2) & 0xffff, src, dst);
                } finally {
                    reassembler.release(whole);
                }
            }
            return;
        }
        ipv4Packet(f, ihl, totalLen, src, dst);
    }

    void ipv4Packet(ByteBuffer f, int ihl, int totalLen, int src, int dst) {
        int protocol = f.get(IP_OFF + 9) & 0xff;
        boolean toGateway = dst == config.gateway();
        boolean toHostAlias = dst == config.hostAlias();
        boolean broadcast = dst == -1 || dst == config.broadcast() || (dst >>> 28) == 14;
        if (!toGateway && !toHostAlias) {
            if (broadcast) {
                if (protocol == PROTO_UDP) {
                    udp.input(f, ihl, totalLen, src, dst, false, true);
                } else {
                    stats.drop(Drop.BROADCAST_IGNORED);
                }
                return;
            }
            if (config.inSubnet(dst)) {
                stats.drop(Drop.NOT_FOR_US);
                return;
            }
            int ttl = f.get(IP_OFF + 8) & 0xff;
            if (ttl <= 1) {
                stats.drop(Drop.TTL_EXPIRED);
                icmpError(f, ihl, totalLen, 11, 0, config.gateway());
                return;
            }
            if (refused.containsIpv4(dst)) {
                stats.drop(Drop.METADATA_REFUSED);
                if (protocol == PROTO_TCP) {
                    tcp.refuse(f, ihl, totalLen, src, dst);
                } else {
                    icmpError(f, ihl, totalLen, 3, 13, config.gateway());
                }
                return;
            }
        }
        switch (protocol) {
            case PROTO_TCP -> tcp.input(f, ihl, totalLen, src, dst);
            case PROTO_UDP -> udp.input(f, ihl, totalLen, src, dst, toGateway, false);
            case PROTO_ICMP -> icmp(f, ihl, totalLen, src, dst, toGateway || toHostAlias);
            default -> {
                stats.drop(Drop.UNSUPPORTED_PROTOCOL);
                if (toGateway || toHostAlias) {
                    icmpError(f, ihl, totalLen, 3, 2, dst);
                }
            }
        }
    }

    private void icmp(ByteBuffer f, int ihl, int totalLen, int src, int dst, boolean ours) {
        int off = IP_OFF + ihl;
        int length = totalLen - ihl;
        if (length < 8) {
            stats.drop(Drop.TRUNCATED);
            return;
        }
        if (Checksum.compute(f, off, length) != 0) {
            stats.drop(Drop.BAD_ICMP_CHECKSUM);
            return;
        }
        int type = f.get(off) & 0xff;
        if (!ours || type != 8) {
            stats.drop(Drop.ICMP_IGNORED);
            return;
        }
        // echo reply in place: a fresh 20-byte header, the same identifier, sequence and data
        ByteBuffer o = out;
        o.clear();
        o.put(IP_OFF + 20, f, off, length);
        o.put(IP_OFF + 20, (byte) 0);
        o.putShort(IP_OFF + 22, (short) 0);
        o.putShort(IP_OFF + 22, (short) Checksum.compute(o, IP_OFF + 20, length));
        ipHeader(o, 20 + length, PROTO_ICMP, dst, src, false);
        sendToGuest(o, ETH_HLEN + 20 + length);
        stats.icmpEchoReplies++;
    }

    /** Sends an ICMP error about the IP packet in {@code f} back to its source. */
    void icmpError(ByteBuffer f, int ihl, int totalLen, int type, int code, int from) {
        int quoted = Math.min(totalLen, ihl + 8);
        ByteBuffer o = aux;
        o.clear();
        int icmp = IP_OFF + 20;
        o.putLong(icmp, 0);
        o.put(icmp, (byte) type);
        o.put(icmp + 1, (byte) code);
        o.put(icmp + 8, f, IP_OFF, quoted);
        o.putShort(icmp + 2, (short) Checksum.compute(o, icmp, 8 + quoted));
        ipHeader(o, 20 + 8 + quoted, PROTO_ICMP, from, f.getInt(IP_OFF + 12), false);
        sendToGuest(o, ETH_HLEN + 28 + quoted);
        stats.icmpErrors++;
    }

    /** Writes a 20-byte IPv4 header at {@link #IP_OFF}. */
    void ipHeader(ByteBuffer b, int totalLen, int protocol, int src, int dst, boolean dontFragment) {
        b.putInt(IP_OFF, 0x4500_0000 | totalLen);
        b.putInt(IP_OFF + 4, (ipId++ & 0xffff) << 16 | (dontFragment ? 0x4000 : 0));
        b.putInt(IP_OFF + 8, 64 << 24 | protocol << 16);
        b.putInt(IP_OFF + 12, src);
        b.putInt(IP_OFF + 16, dst);
        b.putShort(IP_OFF + 10, (short) Checksum.compute(b, IP_OFF, 20));
    }

    int nextIpId() {
        return ipId++ & 0xffff;
    }

    /** Sends the IP packet at {@link #IP_OFF} of {@code b} to the guest owning its destination address. */
    void sendToGuest(ByteBuffer b, int frameLen) {
        if (!addressToGuest(b)) {
            return;
        }
        b.limit(frameLen).position(0);
        output(b, frameLen);
    }

    /**
     * Sends the TCP/IP headers at {@link #IP_OFF} of {@code headers} (ending at {@code headersEnd})
     * followed by {@code payloadLength} bytes of {@code payload} from {@code payloadOffset}: from
     * where the payload lies when the guest's link takes a frame in two pieces, else copied behind
     * the headers (and always while a capture runs, which wants whole frames).
     */
    void sendToGuest(ByteBuffer headers, int headersEnd, ByteBuffer payload, int payloadOffset, int payloadLength) {
        if (!addressToGuest(headers)) {
            return;
        }
        int frameLen = headersEnd + payloadLength;
        GuestPort to = capture == null ? lookup(getMac(headers, 0)) : null;
        if (to == null || !to.gathersFrames()) {
            payload.limit(payload.capacity());
            headers.put(headersEnd, payload, payloadOffset, payloadLength);
            headers.limit(frameLen).position(0);
            output(headers, frameLen);
            return;
        }
        stats.txFrames++;
        stats.txBytes += frameLen;
        headers.limit(headersEnd).position(0);
        payload.limit(payloadOffset + payloadLength).position(payloadOffset);
        to.send(headers, payload);
    }

    /** Fills in the Ethernet header towards the guest owning the packet's destination; false (and dropped) when none is known. */
    private boolean addressToGuest(ByteBuffer b) {
        int dst = b.getInt(IP_OFF + 16);
        long mac;
        if (dst == -1 || dst == config.broadcast()) {
            mac = Mac.BROADCAST;
        } else {
            mac = arp.get(dst);
            if (mac < 0) {
                stats.drop(Drop.NO_GUEST_MAC);
                requestMac(dst);
                return false;
            }
        }
        putMac(b, 0, mac);
        putMac(b, 6, config.gatewayMac());
        b.putShort(12, (short) ETHERTYPE_IPV4);
        return true;
    }

    private final ByteBuffer macRequest = ByteBuffer.allocateDirect(ETH_HLEN + 28);
    private int lastMacRequest;
    private long lastMacRequestNanos;

    /**
     * Asks the guests who has {@code ip} (a connection we open, e.g. for a published port, may
     * target a guest that has not sent us anything yet); the dropped packet's retransmission finds
     * the answer learned. At most one request per address every 100 ms.
     */
    private void requestMac(int ip) {
        long now = System.nanoTime();
        if (!config.inSubnet(ip) || (ip == lastMacRequest && now - lastMacRequestNanos < 100_000_000L)) {
            return;
        }
        lastMacRequest = ip;
        lastMacRequestNanos = now;
        ByteBuffer a = macRequest;
        a.clear();
        putMac(a, 0, Mac.BROADCAST);
        putMac(a, 6, config.gatewayMac());
        a.putShort(12, (short) ETHERTYPE_ARP);
        a.putShort(ETH_HLEN, (short) 1).putShort(ETH_HLEN + 2, (short) ETHERTYPE_IPV4);
        a.put(ETH_HLEN + 4, (byte) 6).put(ETH_HLEN + 5, (byte) 4).putShort(ETH_HLEN + 6, (short) 1);
        putMac(a, ETH_HLEN + 8, config.gatewayMac());
        a.putInt(ETH_HLEN + 14, config.gateway());
        a.putInt(ETH_HLEN + 24, ip);
        a.limit(ETH_HLEN + 28).position(0);
        output(a, ETH_HLEN + 28);
    }

    /** Sends a complete frame (Ethernet header filled in) from index 0 to {@code len}. */
    void sendFrame(ByteBuffer b, int len) {
        output(b, len);
    }

    private void output(ByteBuffer b, int len) {
        stats.txFrames++;
        stats.txBytes += len;
        FrameTap c = capture;
        if (c != null) {
            c.frame(b, System.nanoTime());
            b.limit(len).position(0);
        }
        long dst = getMac(b, 0);
        if (Mac.isGroup(dst)) {
            for (int i = 0; i < ports.size(); i++) {
                ports.get(i).send(b);
                b.limit(len).position(0);
            }
            return;
        }
        GuestPort to = lookup(dst);
        if (to != null) {
            to.send(b);
        } else {
            for (int i = 0; i < ports.size(); i++) {
                ports.get(i).send(b);
                b.limit(len).position(0);
            }
        }
    }

    // ---------------------------------------------------------------- host-to-guest (published ports)

    /** Why {@code address} cannot be a guest's, or null when it can. */
    public String unknownGuestReason(int address) {
        if (!config.inSubnet(address)) {
            return Ip4.toString(address) + " is outside the guest network " + Ip4.toString(config.subnet()) + "/"
                    + config.prefixLength();
        }
        if (address == config.gateway() || address == config.hostAlias()) {
            return Ip4.toString(address) + " is the network's own " + (address == config.gateway() ? "gateway" : "host alias");
        }
        if (address == config.subnet() || address == config.broadcast()) {
            return Ip4.toString(address) + " is not a host address of the guest network";
        }
        return null;
    }

    /**
     * Opens a TCP connection from the gateway to {@code guestIp:guestPort} for the accepted host
     * connection {@code channel}; the stack owns the channel when this returns.
     *
     * @throws IOException when the stack is closed or its connection table is full
     */
    public void connectToGuest(java.nio.channels.SocketChannel channel, int guestIp, int guestPort) throws IOException {
        lock.lock();
        try {
            if (!running) {
                throw new IOException("the network stack is stopped");
            }
            if (!tcp.openToGuest(channel, config.gateway(), guestIp, guestPort)) {
                throw new IOException("the network stack's TCP connection table is full");
            }
        } finally {
            lock.unlock();
        }
    }

    /** Opens a UDP flow from a gateway port to {@code guestIp:guestPort}; replies go to {@code replies}. */
    public dev.slipway.networking.api.GuestDatagramFlow openFlowToGuest(int guestIp, int guestPort,
            dev.slipway.networking.api.DatagramReceiver replies) throws IOException {
        lock.lock();
        try {
            if (!running) {
                throw new IOException("the network stack is stopped");
            }
            Udp.GuestFlow flow = udp.openToGuest(config.gateway(), guestIp, guestPort, replies);
            if (flow == null) {
                throw new IOException("the network stack's UDP flow table is full");
            }
            return flow;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- event loop

    /**
     * Makes the loop's selector see a registration or a grown interest set soon; called with the
     * lock held. During a transport's batch of frames the wake-up waits for the batch's end.
     */
    void wakeLoop() {
        if (onLoop()) {
            return;
        }
        if (currentPort != null) {
            loopWakeupPending = true;
        } else {
            selector.wakeup();
        }
    }

    /**
     * Takes the lock, spinning briefly before parking: the critical sections of the transport's
     * reader and of the loop are short, and parking a thread and waking it again costs several
     * times more than they do (futex and scheduler round trips, dear on a virtual machine).
     */
    void lockQuickly() {
        for (int i = 0; i < LOCK_SPINS; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    /** Runs {@code task} on the event loop with the lock held. */
    void execute(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    boolean onLoop() {
        return Thread.currentThread() == loop;
    }

    private void runLoop() {
        Consumer<SelectionKey> collect = readyKeys::add;
        long lastTick = System.nanoTime();
        while (running) {
            long sinceTick = System.nanoTime() - lastTick;
            try {
                selector.select(collect, Math.max(1, TICK_MILLIS - sinceTick / 1_000_000L));
            } catch (IOException | RuntimeException e) {
                if (!running) {
                    break;
                }
                LOG.warn("selector failed", e);
            }
            long now = System.nanoTime();
            boolean tick = now - lastTick >= TICK_MILLIS * 1_000_000L;
            if (readyKeys.isEmpty() && tasks.isEmpty() && !tick) {
                continue; // woken only so that the selector took new registrations: nothing needs the lock
            }
            lockQuickly();
            try {
                for (int i = 0; i < readyKeys.size(); i++) {
                    ready(readyKeys.get(i));
                    if ((i & (KEYS_PER_LOCK_HOLD - 1)) == KEYS_PER_LOCK_HOLD - 1 && lock.hasQueuedThreads()) {
                        letReadersIn();
                    }
                }
                for (Runnable t; (t = tasks.poll()) != null; ) {
                    t.run();
                }
                if (tick) {
                    lastTick = now;
                    tcp.timers(now);
                    if (now - lastSlowTick > 1_000_000_000L) {
                        lastSlowTick = now;
                        tcp.expire(now);
                        udp.expire(now);
                        reassembler.expire(now);
                    }
                }
                tcp.flush();
            } catch (RuntimeException e) {
                if (errorsLogged++ < 20) {
                    LOG.warn("event loop step failed", e);
                }
            } finally {
                readyKeys.clear();
                lock.unlock();
            }
        }
    }

    /**
     * Lets a waiting transport reader take the lock between ready host sockets: the tap drops what
     * its queue cannot hold, so a reader kept out while thousands of sockets are handled loses
     * frames, and a lost reset leaves a connection open.
     */
    private void letReadersIn() {
        lock.unlock();
        Thread.yield();
        lockQuickly();
    }

    /** Handles one ready host socket; called with the lock held. */
    private void ready(SelectionKey key) {
        try {
            Object a = key.attachment();
            if (a instanceof Tcp.Connection c) {
                tcp.ready(c, key);
            } else if (a instanceof Udp.Flow flow) {
                udp.ready(flow, key);
            }
        } catch (RuntimeException e) {
            if (errorsLogged++ < 20) {
                LOG.warn("host socket event failed", e);
            }
        }
    }

    // ---------------------------------------------------------------- status

    /** A snapshot for {@code slipway net status}. */
    public Map<String, Object> status() {
        lock.lock();
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("subnet", Ip4.toString(config.subnet()) + "/" + config.prefixLength());
            m.put("gateway", Ip4.toString(config.gateway()));
            m.put("hostAlias", Ip4.toString(config.hostAlias()));
            m.put("mtu", config.mtu());
            m.put("dns", dns != null);
            m.put("transports", transports());
            m.put("leases", dhcp.leases());
            m.put("tcp", tcp.status());
            m.put("udp", udp.status());
            m.put("traffic", stats.traffic());
            m.put("drops", stats.drops());
            return m;
        } finally {
            lock.unlock();
        }
    }

    public Stats stats() {
        return stats;
    }

    @Override
    public void close() {
        shutDown(false);
    }

    /**
     * Stops the stack for its next version: like {@link #close()}, but the links to the guest are
     * detached instead of closed; returns their descriptions ({@link Transport#detach()}). A link
     * that cannot be detached is closed.
     */
    public List<Map<String, Object>> closeForHandover() {
        return shutDown(true);
    }

    /** Every guest connection is reset while the links still carry the resets; then the links go. */
    private List<Map<String, Object>> shutDown(boolean detachLinks) {
        running = false;
        selector.wakeup();
        try {
            loop.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<GuestPort> attached;
        lock.lock();
        try {
            tcp.closeAll();
            udp.closeAll();
            attached = new ArrayList<>(ports);
        } finally {
            lock.unlock();
        }
        List<Map<String, Object>> detached = new ArrayList<>();
        for (GuestPort p : attached) {
            Map<String, Object> link = detachLinks ? p.transport.detach() : null;
            if (link != null) {
                detached.add(link);
            } else {
                p.close();
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            LOG.debug("closing the selector", e);
        }
        for (GuestPort p : attached) {
            p.join();
        }
        return detached;
    }

    /** The DHCP leases, each {@code {mac, ip, grantedEpochMillis}}, for the next version of the stack. */
    public List<long[]> leasesForHandover() {
        lock.lock();
        try {
            return dhcp.export();
        } finally {
            lock.unlock();
        }
    }

    /** Takes the leases a previous version granted ({@link #leasesForHandover()}). */
    public void restoreLeases(List<long[]> leases) {
        lock.lock();
        try {
            dhcp.restore(leases);
        } finally {
            lock.unlock();
        }
    }

    /** A transport plugged into the switch. */
    final class GuestPort implements Port, FrameReceiver {
        final Transport transport;
        volatile Thread thread;
        private long sendErrorsLogged;

        GuestPort(Transport transport) {
            this.transport = transport;
        }

        @Override
        public String name() {
            return transport.name();
        }

        boolean segmentationOffload() {
            return transport.segmentationOffload();
        }

        @Override
        public void send(ByteBuffer frame) {
            int gso = gsoSize;
            if (gso > 0 && !transport.segmentationOffload()) {
                stats.drop(Drop.OVERSIZED);
                return;
            }
            try {
                transport.send(frame, gso);
            } catch (IOException | RuntimeException e) {
                stats.drop(Drop.TRANSPORT_ERROR);
                if (sendErrorsLogged++ < 5) {
                    LOG.warn("cannot send a frame to {}: {}", name(), e.toString());
                }
            }
        }

        boolean gathersFrames() {
            return transport.gathersFrames();
        }

        /** Sends a frame in two pieces (see {@link Transport#send(ByteBuffer, ByteBuffer, int)}). */
        void send(ByteBuffer headers, ByteBuffer payload) {
            int gso = gsoSize;
            if (gso > 0 && !transport.segmentationOffload()) {
                stats.drop(Drop.OVERSIZED);
                return;
            }
            try {
                transport.send(headers, payload, gso);
            } catch (IOException | RuntimeException e) {
                stats.drop(Drop.TRANSPORT_ERROR);
                if (sendErrorsLogged++ < 5) {
                    LOG.warn("cannot send a frame to {}: {}", name(), e.toString());
                }
            }
        }

        @Override
        public void frame(ByteBuffer frame) {
            receive(this, frame, false);
        }

        @Override
        public void framePartialChecksum(ByteBuffer frame) {
            receive(this, frame, true);
        }

        @Override
        public void endOfBatch() {
            NetStack.this.endOfBatch();
        }

        void run() {
            try {
                transport.run(this);
                if (running) {
                    LOG.info("transport {} ended (the guest side closed it or its device went away)", name());
                }
            } catch (IOException | RuntimeException e) {
                if (running) {
                    LOG.warn("transport {} failed", name(), e);
                }
            } finally {
                lock.lock();
                try {
                    ports.remove(this);
                    forget(this);
                } finally {
                    lock.unlock();
                }
                close();
            }
        }

        void close() {
            try {
                transport.close();
            } catch (IOException e) {
                LOG.debug("closing {}", name(), e);
            }
        }

        void join() {
            Thread t = thread;
            if (t != null && t != Thread.currentThread()) {
                try {
                    t.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}

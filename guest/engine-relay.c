/*
 * Slipway's engine relay, inside the guest: carries the host's connections to the engine's Unix
 * socket over one virtio-serial port, so the engine never listens on the network.
 *
 * Frames on the port, both ways: type (1 byte), connection id (4 bytes, big-endian), payload
 * length (4 bytes, big-endian), payload.
 *   OPEN  host->guest  connect id to the engine socket
 *   DATA  both         bytes of connection id
 *   SHUT  both         the sender has no more bytes for id (half close)
 *   CLOSE both         id is gone; the receiver closes its end
 *   RESET host->guest  a new host side: every connection is gone
 *   CREDIT both        4-byte payload: the receiver delivered that many more bytes of id
 * The host allocates ids and never reuses one while the port stays open.
 *
 * Flow control, per connection and both ways: at most WINDOW bytes of a connection may be sent and
 * not yet credited back. The relay buffers the host's bytes for each connection (one WINDOW each) and
 * writes them to the engine without blocking, so one connection whose reader stalls never holds the
 * port back. A peer that sends past its window or credits more than was sent breaks the protocol:
 * the relay reports it and drops every connection.
 *
 * usage: slipway-engine-relay PORT-DEVICE ENGINE-SOCKET
 * PORT-DEVICE may also be a Unix socket to connect to (how the relay is tested against a played host).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { OPEN = 1, DATA = 2, SHUT = 3, CLOSE = 4, RESET = 5, CREDIT = 6 };
enum { MAX_CONNS = 256, HEADER = 9, MAX_PAYLOAD = 32768, WINDOW = 262144 };

struct conn {
    uint32_t id;
    int fd;           /* -1: free */
    int read_done;    /* the engine sent EOF, SHUT went to the host */
    int write_done;   /* the host sent SHUT, the engine's side was shut */
    int shut_pending; /* the host sent SHUT; shut the engine's side once pending is written */
    uint32_t credit;  /* bytes the relay may still send to the host */
    unsigned char *pending; /* the host's bytes not yet written to the engine: WINDOW bytes */
    uint32_t pending_off, pending_len;
};

static struct conn conns[MAX_CONNS];
static int port = -1;
static const char *engine_path;

static int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd w = { .fd = fd, .events = POLLOUT };
                poll(&w, 1, 1000);
                continue;
            }
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

static int send_frame(int type, uint32_t id, const void *payload, uint32_t len) {
    unsigned char h[HEADER];
    h[0] = (unsigned char) type;
    h[1] = id >> 24; h[2] = id >> 16; h[3] = id >> 8; h[4] = id;
    h[5] = len >> 24; h[6] = len >> 16; h[7] = len >> 8; h[8] = len;
    if (write_all(port, h, HEADER) < 0) return -1;
    if (len > 0 && write_all(port, payload, len) < 0) return -1;
    return 0;
}

static struct conn *find(uint32_t id) {
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].fd >= 0 && conns[i].id == id) return &conns[i];
    return NULL;
}

static void drop(struct conn *c, int tell_host) {
    if (c->fd < 0) return;
    close(c->fd);
    c->fd = -1;
    free(c->pending);
    c->pending = NULL;
    if (tell_host) send_frame(CLOSE, c->id, NULL, 0);
}

static void drop_all(int tell_host) {
    for (int i = 0; i < MAX_CONNS; i++) drop(&conns[i], tell_host);
}

static void protocol_error(const char *what, uint32_t id, uint32_t value) {
    fprintf(stderr, "engine-relay: protocol error: %s (connection %u, %u bytes); dropping every connection\n",
            what, id, value);
    drop_all(1);
}

static void send_credit(struct conn *c, uint32_t bytes) {
    unsigned char p[4] = { bytes >> 24, bytes >> 16, bytes >> 8, bytes };
    send_frame(CREDIT, c->id, p, 4);
}

static void open_conn(uint32_t id) {
    struct conn *slot = NULL;
    for (int i = 0; i < MAX_CONNS && !slot; i++)
        if (conns[i].fd < 0) slot = &conns[i];
    int fd = slot ? socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    strncpy(a.sun_path, engine_path, sizeof a.sun_path - 1);
    unsigned char *pending = fd >= 0 ? malloc(WINDOW) : NULL;
    if (fd < 0 || !pending || connect(fd, (struct sockaddr *) &a, sizeof a) < 0
            || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        if (fd >= 0) close(fd);
        free(pending);
        send_frame(CLOSE, id, NULL, 0);
        return;
    }
    slot->id = id;
    slot->fd = fd;
    slot->read_done = 0;
    slot->write_done = 0;
    slot->shut_pending = 0;
    slot->credit = WINDOW;
    slot->pending = pending;
    slot->pending_off = 0;
    slot->pending_len = 0;
}

/* Writes what the engine takes now of the host's bytes, credits them back, and shuts the engine's
 * side once a SHUT has come and nothing is left. */
static void flush_pending(struct conn *c) {
    while (c->fd >= 0 && c->pending_len > 0) {
        ssize_t n = send(c->fd, c->pending + c->pending_off, c->pending_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN) drop(c, 1);
            return;
        }
        c->pending_off += (uint32_t) n;
        c->pending_len -= (uint32_t) n;
        if (c->pending_len == 0) c->pending_off = 0;
        send_credit(c, (uint32_t) n);
    }
    if (c->fd >= 0 && c->shut_pending && c->pending_len == 0) {
        shutdown(c->fd, SHUT_WR);
        c->shut_pending = 0;
        c->write_done = 1;
    }
}

static void finish_if_done(struct conn *c) {
    if (c->fd >= 0 && c->read_done && c->write_done) drop(c, 1);
}

static void frame(int type, uint32_t id, const unsigned char *payload, uint32_t len) {
    struct conn *c;
    switch (type) {
    case OPEN:
        if (!find(id)) open_conn(id);
        break;
    case DATA:
        c = find(id);
        if (!c || c->write_done || c->shut_pending) break;
        if (len > WINDOW - c->pending_len) {
            protocol_error("the host sent past its window", id, len);
            break;
        }
        if (c->pending_off + c->pending_len + len > WINDOW) {
            memmove(c->pending, c->pending + c->pending_off, c->pending_len);
            c->pending_off = 0;
        }
        memcpy(c->pending + c->pending_off + c->pending_len, payload, len);
        c->pending_len += len;
        flush_pending(c);
        break;
    case SHUT:
        c = find(id);
        if (c) {
            c->shut_pending = 1;
            flush_pending(c);
            finish_if_done(c);
        }
        break;
    case CREDIT:
        if (len != 4) {
            protocol_error("a CREDIT frame of the wrong length", id, len);
            break;
        }
        c = find(id);
        uint32_t bytes = (uint32_t) payload[0] << 24 | (uint32_t) payload[1] << 16 | (uint32_t) payload[2] << 8 | payload[3];
        if (bytes == 0 || bytes > WINDOW || (c && bytes > WINDOW - c->credit)) {
            protocol_error("a credit for bytes never sent", id, bytes);
        } else if (c) {
            c->credit += bytes;
        }
        break;
    case CLOSE:
        c = find(id);
        if (c) drop(c, 0);
        break;
    case RESET:
        drop_all(0);
        break;
    default:
        protocol_error("an unknown frame type", id, (uint32_t) type);
        break;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT-DEVICE ENGINE-SOCKET\n", argv[0]);
        return 2;
    }
    engine_path = argv[2];
    for (int i = 0; i < MAX_CONNS; i++) conns[i].fd = -1;
    port = open(argv[1], O_RDWR | O_CLOEXEC);
    if (port < 0 && errno == ENXIO) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
        port = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (port >= 0 && connect(port, (struct sockaddr *) &a, sizeof a) < 0) {
            close(port);
            port = -1;
        }
    }
    if (port < 0) {
        perror(argv[1]);
        return 1;
    }
    static unsigned char in[HEADER + MAX_PAYLOAD * 2];
    static unsigned char buf[MAX_PAYLOAD];
    size_t have = 0;
    struct pollfd fds[MAX_CONNS + 1];
    int which[MAX_CONNS + 1];
    for (;;) {
        int n = 0;
        fds[n].fd = port; fds[n].events = POLLIN; which[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            short events = (c->fd >= 0 && !c->read_done && c->credit > 0 ? POLLIN : 0)
                    | (c->fd >= 0 && c->pending_len > 0 ? POLLOUT : 0);
            if (events) {
                fds[n].fd = c->fd; fds[n].events = events; which[n++] = i;
            }
        }
        if (poll(fds, (nfds_t) n, -1) < 0) {
            if (errno == EINTR) continue;
            perror("poll");
            return 1;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(port, in + have, sizeof in - have);
            if (r <= 0) {
                /* no host side (yet, or any more): nothing in flight survives it */
                drop_all(0);
                have = 0;
                struct timespec pause = { 0, 200 * 1000 * 1000 };
                nanosleep(&pause, NULL);
                continue;
            }
            have += (size_t) r;
            size_t off = 0;
            while (have - off >= HEADER) {
                unsigned char *h = in + off;
                uint32_t id = (uint32_t) h[1] << 24 | (uint32_t) h[2] << 16 | (uint32_t) h[3] << 8 | h[4];
                uint32_t len = (uint32_t) h[5] << 24 | (uint32_t) h[6] << 16 | (uint32_t) h[7] << 8 | h[8];
                if (len > MAX_PAYLOAD) {
                    protocol_error("a frame too long", id, len);
                    off = have;
                    break;
                }
                if (have - off < HEADER + len) break;
                frame(h[0], id, h + HEADER, len);
                off += HEADER + len;
            }
            memmove(in, in + off, have - off);
            have -= off;
        }
        for (int k = 1; k < n; k++) {
            struct conn *c = &conns[which[k]];
            if (c->fd >= 0 && c->pending_len > 0 && (fds[k].revents & (POLLOUT | POLLHUP | POLLERR))) {
                flush_pending(c);
                finish_if_done(c);
            }
            if (c->fd < 0 || c->read_done || c->credit == 0
                    || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            size_t want = c->credit < sizeof buf ? c->credit : sizeof buf;
            ssize_t r = read(c->fd, buf, want);
            if (r > 0) {
                c->credit -= (uint32_t) r;
                if (send_frame(DATA, c->id, buf, (uint32_t) r) < 0) return 1;
            } else if (r == 0) {
                c->read_done = 1;
                send_frame(SHUT, c->id, NULL, 0);
                finish_if_done(c);
            } else if (errno != EINTR && errno != EAGAIN) {
                drop(c, 1);
            }
        }
    }
}

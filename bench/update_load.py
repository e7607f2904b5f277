#!/usr/bin/env python3
"""Load that runs across live updates, for bench/update.sh and the end-to-end checks.

  update_load.py dns HOST PORT QPS SECONDS     queries for host.docker.internal at QPS; prints sent, answered, lost, longest gap (ms)
  update_load.py bulk HOST PORT BYTES          sends BYTES to an echo/sink peer and reads them back; prints bytes, longest gap (ms)
  update_load.py udp HOST PORT SECONDS         one UDP flow, 100 datagrams/s to an echo peer; prints sent, echoed, longest gap (ms)
  update_load.py sink PORT                     host side: a TCP and UDP echo server on 0.0.0.0:PORT (runs until killed)
"""
import json, os, socket, struct, sys, threading, time

def query(qid):
    name = b"".join(bytes([len(p)]) + p for p in b"host.docker.internal".split(b".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)

def roomy(s):
    # A starved client would drop answers in its own receive buffer (about 280 small datagrams by
    # default) and count them against the server: as root, give it room for many seconds of answers.
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    return s

def dns(host, port, qps, seconds):
    s = roomy(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    s.settimeout(0.2)
    total = int(qps * seconds)
    answered = set(); times = []
    done = threading.Event()
    def receive():
        while not done.is_set():
            try:
                data = s.recv(4096)
            except socket.timeout:
                continue
            qid = struct.unpack(">H", data[:2])[0]
            if qid not in answered:
                answered.add(qid); times.append(time.monotonic())
    t = threading.Thread(target=receive, daemon=True); t.start()
    start = time.monotonic()
    for i in range(total):
        due = start + i / qps
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s.sendto(query(i % 65536), (host, port))
    deadline = time.monotonic() + 5
    while len(answered) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set(); t.join()
    times.sort()
    gap = max((b - a for a, b in zip(times, times[1:])), default=0)
    print(json.dumps({"sent": total, "answered": len(answered), "lost": total - len(answered), "longestGapMs": round(gap * 1000, 1)}))

def bulk(host, port, size):
    c = socket.create_connection((host, port), timeout=30)
    chunk = os.urandom(65536)
    got = 0; last = time.monotonic(); gap = 0.0
    def send():
        left = size
        while left > 0:
            n = min(left, len(chunk)); c.sendall(chunk[:n]); left -= n
    t = threading.Thread(target=send, daemon=True); t.start()
    while got < size:
        data = c.recv(1 << 20)
        if not data:
            break
        now = time.monotonic(); gap = max(gap, now - last); last = now
        got += len(data)
    t.join(5)
    print(json.dumps({"bytes": size, "received": got, "complete": got == size, "longestGapMs": round(gap * 1000, 1)}))

def stream(host, port, seconds):
    """A TCP connection opened before the update and echoing through it: 16 KiB every 10 ms for SECONDS;
    the longest gap between echoed bytes and whether every byte came back."""
    c = socket.create_connection((host, port), timeout=30)
    chunk = os.urandom(16384)
    total = int(seconds * 100) * len(chunk)
    got = 0; last = time.monotonic(); gap = 0.0
    def send():
        start = time.monotonic()
        for i in range(int(seconds * 100)):
            delay = start + i / 100 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            c.sendall(chunk)
    t = threading.Thread(target=send, daemon=True); t.start()
    while got < total:
        try:
            data = c.recv(1 << 20)
        except OSError:
            break
        if not data:
            break
        now = time.monotonic(); gap = max(gap, now - last); last = now
        got += len(data)
    t.join(5)
    print(json.dumps({"bytes": total, "received": got, "complete": got == total, "longestGapMs": round(gap * 1000, 1)}))

def udp(host, port, seconds):
    s = roomy(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)); s.settimeout(0.2)
    echoed = set(); times = []; done = threading.Event()
    def receive():
        while not done.is_set():
            try:
                d = s.recv(100)
            except socket.timeout:
                continue
            n = struct.unpack(">I", d[:4])[0]
            if n not in echoed:
                echoed.add(n); times.append(time.monotonic())
    t = threading.Thread(target=receive, daemon=True); t.start()
    total = int(seconds * 100); start = time.monotonic()
    for i in range(total):
        delay = start + i / 100 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s.sendto(struct.pack(">I", i), (host, port))
    time.sleep(1); done.set(); t.join()
    gap = max((b - a for a, b in zip(times, times[1:])), default=0)
    print(json.dumps({"sent": total, "echoed": len(echoed), "lastEchoed": max(echoed) if echoed else -1, "longestGapMs": round(gap * 1000, 1)}))

def sink(port):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", port))
    def udp_echo():
        while True:
            d, a = u.recvfrom(65536); u.sendto(d, a)
    threading.Thread(target=udp_echo, daemon=True).start()
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("0.0.0.0", port)); l.listen(512)
    def echo(c):
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            c.sendall(d)
        c.close()
    while True:
        c, _ = l.accept(); threading.Thread(target=echo, args=(c,), daemon=True).start()

if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "dns": dns(args[0], int(args[1]), float(args[2]), float(args[3]))
    elif mode == "bulk": bulk(args[0], int(args[1]), int(args[2]))
    elif mode == "udp": udp(args[0], int(args[1]), float(args[2]))
    elif mode == "stream": stream(args[0], int(args[1]), float(args[2]))
    elif mode == "sink": sink(int(args[0]))
    else: sys.exit(__doc__)

#!/usr/bin/env python3
"""Driven by bench/update.sh: see there."""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, time, zipfile

root, n = sys.argv[1], int(sys.argv[2])
bundles = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else ["dev.slipway.networking.stack", "dev.slipway.dns", "dev.slipway.platform.linux"]
dist = os.path.join(root, "runtime/target/slipway")
load = os.path.join(root, "bench/update_load.py")
home = tempfile.mkdtemp(prefix="slipway-update-bench-")
netns = "slw-upd-%d" % os.getpid()
dns_port, sink_port = 15400 + os.getpid() % 500, 18900 + os.getpid() % 500
env = dict(os.environ, SLIPWAY_HOME=home, SLIPWAY_RUNTIME_DIR=os.path.join(home, "run"))
env.pop("XDG_RUNTIME_DIR", None)

def cli(*args):
    return subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Dslipway.dist=" + dist,
                           "-cp", dist + "/lib/*", "dev.slipway.cli.Main", *args], env=env, capture_output=True, text=True, timeout=180)

def newer(bsn, version, target):
    src = next(os.path.join(dist, "bundles", f) for f in os.listdir(os.path.join(dist, "bundles")) if f.startswith(bsn + "-0"))
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "META-INF/MANIFEST.MF":
                lines = data.decode("utf-8").split("\r\n")
                data = "\r\n".join("Bundle-Version: " + version if l.startswith("Bundle-Version:") else l for l in lines).encode("utf-8")
            zout.writestr(item, data)

def pid():
    return int(open(os.path.join(home, "run/slipway.pid")).read().strip())

def resources():
    p = pid()
    fds = len(os.listdir("/proc/%d/fd" % p))
    threads = len(os.listdir("/proc/%d/task" % p))
    return fds, threads

def guest_drops():
    """Where the guest lost datagrams: its UDP sockets' full receive buffers, and its tap's dropped frames."""
    snmp = subprocess.run(["ip", "netns", "exec", netns, "cat", "/proc/net/snmp"], capture_output=True, text=True).stdout.splitlines()
    udp = [l.split() for l in snmp if l.startswith("Udp:")]
    rcvbuf = int(udp[1][udp[0].index("RcvbufErrors")]) if len(udp) == 2 else -1
    link = subprocess.run(["ip", "-n", netns, "-s", "-j", "link", "show", "dev", "slw0"], capture_output=True, text=True).stdout
    try:
        stats = json.loads(link)[0]["stats64"]
        tap = {"rxDropped": stats["rx"]["dropped"], "txDropped": stats["tx"]["dropped"]}
    except (ValueError, LookupError):
        tap = {}
    return {"udpRcvbufErrors": rcvbuf, **tap}

def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]

print("live update bench: %d updates per bundle, %s, load average %s" % (n, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()))
up = cli("up", "-d", "--netns", netns, "--dns-listen", "127.0.0.1:%d" % dns_port)
print(up.stdout.strip(), up.stderr.strip())
sink = subprocess.Popen([sys.executable, load, "sink", str(sink_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rows = []
try:
    time.sleep(1)
    before = resources()
    for bundle in bundles:
        results = []
        for i in range(1, n + 1):
            jar = os.path.join(home, "%s-0.2.%d.jar" % (bundle, i))
            newer(bundle, "0.2.%d" % i, jar)
            procs = {
                "gateway": subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, load, "dns", "192.168.65.1", "53", "1000", "4"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True),
                "listen": subprocess.Popen([sys.executable, load, "dns", "127.0.0.1", str(dns_port), "1000", "4"], stdout=subprocess.PIPE, text=True),
                "udp": subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, load, "udp", "192.168.65.254", str(sink_port), "4"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True),
                "tcp": subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, load, "stream", "192.168.65.254", str(sink_port), "4"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True),
            }
            time.sleep(1.5)
            deployed = cli("deploy", jar)
            r = {k: json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for k, p in procs.items()}
            status = json.loads(cli("status", "--json").stdout)
            update = status.get("deploy", {}).get("updates", {}).get(bundle, {})
            r["update"] = {k: update.get(k) for k in ("to", "result", "state", "tookMs")}
            r["deployExit"] = deployed.returncode
            r["guestDrops"] = guest_drops()
            print(bundle, i, json.dumps(r), flush=True)
            results.append(r)
        rows.append((bundle, results))
    subprocess.run(["sh", "-c", "kill -0 %d" % pid()])
    time.sleep(2)
    after = resources()
finally:
    sink.terminate()
    cli("down")
    subprocess.run(["ip", "netns", "del", netns], stderr=subprocess.DEVNULL)
    shutil.rmtree(home, ignore_errors=True)

print()
print("| bundle (%d updates) | pause, DNS to the gateway (ms) min / p50 / p99 / max | lost of %d | pause, DNS to --dns-listen (ms) min / p50 / p99 / max | lost of %d | UDP flow: pause (ms) p50 / max, echoed | TCP stream: pause (ms) p50 / p99, complete | updates handed over |" % (n, n * 4000, n * 4000))
print("|---|---|---|---|---|---|---|---|")
for bundle, results in rows:
    g = [r["gateway"]["longestGapMs"] for r in results]; l = [r["listen"]["longestGapMs"] for r in results]
    u = [r["udp"]["longestGapMs"] for r in results]
    t = [r["tcp"]["longestGapMs"] for r in results]
    print("| %s | %.0f / %.0f / %.0f / %.0f | %d | %.0f / %.0f / %.0f / %.0f | %d | %.0f / %.0f, %d of %d | %.0f / %.0f, %d of %d | %d of %d |" % (
        bundle, min(g), statistics.median(g), pct(g, 0.99), max(g), sum(r["gateway"]["lost"] for r in results),
        min(l), statistics.median(l), pct(l, 0.99), max(l), sum(r["listen"]["lost"] for r in results),
        statistics.median(u), max(u), sum(r["udp"]["echoed"] for r in results), sum(r["udp"]["sent"] for r in results),
        statistics.median(t), pct(t, 0.99), sum(1 for r in results if r["tcp"]["complete"]), n,
        sum(1 for r in results if r["update"]["result"] == "updated"), n))
print()
print("runtime descriptors / threads: before %s, after %d updates %s" % (before, len(bundles) * n, after))

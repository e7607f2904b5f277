#!/usr/bin/env bash
# Network benchmark: Slipway's stack (tap into a namespace), slirp4netns and kernel veth, side by
# side in the same run. iperf3 guest->host and host->guest per MTU, several runs, min/median/max
# Gbit/s and Slipway's ratio to slirp4netns; the CPU time the network peer process itself spent per
# GB moved (/proc/PID/stat utime+stime around each run; the iperf3 endpoints are not counted, their
# own CPU is shown apart, and for veth, whose forwarding runs in the kernel inside the endpoints'
# system calls, it is the only figure); then connection setup rate and connections held.
# Usage: bench/net.sh [runs=3] [seconds=5] [mtus="1500 65520"]   (root; iproute2 iperf3 slirp4netns python3)
# Env: CONNS (connections held, default 5000), RATE_SECONDS (default 5), OUT (also write the table there),
#      BASELINE_CP (the classpath of another build of networking/stack, e.g. before a change: measured as
#      "slipway-baseline" in the same run, after each Slipway run, and compared in a table of its own)
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-5}; MTUS=${3:-"1500 65520"}
CONNS=${CONNS:-5000}; RATE_SECONDS=${RATE_SECONDS:-5}
cd "$(dirname "$0")/.."
for t in ip iperf3 slirp4netns python3 unshare nsenter java; do
  command -v "$t" >/dev/null || { echo "bench/net.sh: missing $t (apt-get install -y iproute2 iperf3 slirp4netns)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/net.sh: needs root (network namespaces, tap devices)" >&2; exit 2; }

./mvnw -B -q -o install -pl networking/stack -am -DskipTests >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl networking/stack -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/slw-bench-cp.txt >/dev/null
CP="networking/stack/target/classes:networking/stack/target/test-classes:$(cat /tmp/slw-bench-cp.txt)"
JAVA="java -XX:+UseParallelGC -Xss512k -cp $CP"

work=$(mktemp -d); pids=()
results="$work/results.tsv"; : >"$results"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del slw-bench-veth 2>/dev/null || true
  ip netns del slw-bench-slipway 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
HZ=$(getconf CLK_TCK)
cpu_ticks() { if [ "$1" = - ]; then echo 0; else awk '{print $14 + $15}' "/proc/$1/stat"; fi; }
# iperf_run PEER MTU DIRECTION PEER_PID COMMAND...: runs one iperf3 client (-J) and records Gbit/s, bytes,
# the peer process's CPU seconds (PEER_PID "-" for none) and the two iperf3 endpoints' CPU seconds
iperf_run() {
  local peer=$1 mtu=$2 dir=$3 pid=$4 before after line; shift 4
  before=$(cpu_ticks "$pid")
  "$@" >"$work/iperf.json" 2>/dev/null || true
  after=$(cpu_ticks "$pid")
  line=$(python3 - "$work/iperf.json" "$before" "$after" "$HZ" <<'PY' 2>/dev/null || printf 'nan\tnan\tnan\tnan'
import json, sys
end = json.load(open(sys.argv[1]))["end"]
r, cpu = end["sum_received"], end["cpu_utilization_percent"]
ticks = (float(sys.argv[3]) - float(sys.argv[2])) / float(sys.argv[4])
endpoints = (cpu["host_total"] + cpu["remote_total"]) / 100 * r["seconds"]
print("%.3f\t%d\t%.2f\t%.2f" % (r["bits_per_second"] / 1e9, r["bytes"], ticks, endpoints))
PY
)
  printf '%s\t%s\t%s\t%s\n' "$peer" "$mtu" "$dir" "$line" >>"$results"
  printf '%-12s mtu %-6s %-13s %s\n' "$peer" "$mtu" "$dir" "$(echo "$line" | awk -F'\t' '{printf "%s Gbit/s, %s GB, peer CPU %s s, endpoints CPU %s s", $1, $2/1e9, $3, $4}')" >&2
}

iperf3 -s -B 127.0.0.1 -p 15201 >/dev/null 2>&1 & pids+=($!)
sleep 0.3

# kernel veth: the machine's limit for a namespace
ip netns del slw-bench-veth 2>/dev/null || true
ip netns add slw-bench-veth
ip link add slwbv0 type veth peer name slwbv1 netns slw-bench-veth
ip addr add 10.77.0.1/24 dev slwbv0; ip link set slwbv0 up
ip -n slw-bench-veth addr add 10.77.0.2/24 dev slwbv1; ip -n slw-bench-veth link set slwbv1 up; ip -n slw-bench-veth link set lo up
iperf3 -s -B 10.77.0.1 -p 15202 >/dev/null 2>&1 & pids+=($!); sleep 0.3

slipway_start() { # mtu [classpath]
  ip netns del slw-bench-slipway 2>/dev/null || true
  mkfifo "$work/in" 2>/dev/null || true
  java -XX:+UseParallelGC -Xss512k -cp "${2:-$CP}" dev.slipway.networking.stack.bench.BenchStack slw-bench-slipway "$1" <"$work/in" >"$work/stack.out" 2>"$work/stack.err" & sp=$!
  exec 7>"$work/in"
  for _ in $(seq 1 100); do grep -q '^ready' "$work/stack.out" 2>/dev/null && return 0; sleep 0.1; done
  echo "Slipway stack did not come up: $(cat "$work/stack.out" "$work/stack.err")" >&2; return 1
}
slipway_stop() { exec 7>&-; wait "$sp" 2>/dev/null || true; ip netns del slw-bench-slipway 2>/dev/null || true; }

for run in $(seq 1 "$RUNS"); do
  for mtu in $MTUS; do
    ip link set slwbv0 mtu "$mtu"; ip -n slw-bench-veth link set slwbv1 mtu "$mtu"
    iperf_run veth "$mtu" guest-to-host - ip netns exec slw-bench-veth iperf3 -c 10.77.0.1 -p 15202 -t "$DUR" -J
    iperf_run veth "$mtu" host-to-guest - ip netns exec slw-bench-veth iperf3 -c 10.77.0.1 -p 15202 -t "$DUR" -R -J

    unshare --net sleep $((2 * DUR + 30)) & ns=$!; sleep 0.3
    slirp4netns --configure --mtu="$mtu" "$ns" tap0 >"$work/slirp.log" 2>&1 & slp=$!; sleep 1
    iperf_run slirp4netns "$mtu" guest-to-host "$slp" nsenter -t "$ns" -n iperf3 -c 10.0.2.2 -p 15201 -t "$DUR" -J
    iperf_run slirp4netns "$mtu" host-to-guest "$slp" nsenter -t "$ns" -n iperf3 -c 10.0.2.2 -p 15201 -t "$DUR" -R -J
    kill "$slp" "$ns" 2>/dev/null || true; wait "$slp" "$ns" 2>/dev/null || true

    slipway_start "$mtu"
    iperf_run slipway "$mtu" guest-to-host "$sp" ip netns exec slw-bench-slipway iperf3 -c 192.168.65.254 -p 15201 -t "$DUR" -J
    iperf_run slipway "$mtu" host-to-guest "$sp" ip netns exec slw-bench-slipway iperf3 -c 192.168.65.254 -p 15201 -t "$DUR" -R -J
    slipway_stop
    if [ -n "${BASELINE_CP:-}" ]; then
      slipway_start "$mtu" "$BASELINE_CP"
      iperf_run slipway-baseline "$mtu" guest-to-host "$sp" ip netns exec slw-bench-slipway iperf3 -c 192.168.65.254 -p 15201 -t "$DUR" -J
      iperf_run slipway-baseline "$mtu" host-to-guest "$sp" ip netns exec slw-bench-slipway iperf3 -c 192.168.65.254 -p 15201 -t "$DUR" -R -J
      slipway_stop
    fi
  done
done

# connection setup rate and connections held, Slipway and slirp4netns, against one host echo server
$JAVA dev.slipway.networking.stack.bench.BenchEcho 127.0.0.1 15203 >"$work/echo.out" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do grep -q ready "$work/echo.out" 2>/dev/null && break; sleep 0.1; done
GUEST="java -Xss256k -cp networking/stack/target/test-classes dev.slipway.networking.stack.it.GuestTool"
conn_results="$work/conn.tsv"; : >"$conn_results"
slipway_start 1500
for run in $(seq 1 "$RUNS"); do
  r=$(ip netns exec slw-bench-slipway $GUEST connrate 192.168.65.254 15203 "$RATE_SECONDS" | cut -d' ' -f1)
  printf 'slipway\trate\t%s\n' "$r" >>"$conn_results"; echo "slipway connections/s: $r" >&2
done
held=$(ip netns exec slw-bench-slipway bash -c "ulimit -n 20000; $GUEST concurrent 192.168.65.254 15203 $CONNS" || echo 0)
printf 'slipway\theld\t%s\n' "$held" >>"$conn_results"; echo "slipway held: $held of $CONNS" >&2
slipway_stop
unshare --net sleep $((RUNS * RATE_SECONDS + 120)) & ns=$!; sleep 0.3
slirp4netns --configure --mtu=1500 "$ns" tap0 >"$work/slirp.log" 2>&1 & slp=$!; sleep 1
for run in $(seq 1 "$RUNS"); do
  r=$(nsenter -t "$ns" -n $GUEST connrate 10.0.2.2 15203 "$RATE_SECONDS" | cut -d' ' -f1)
  printf 'slirp4netns\trate\t%s\n' "$r" >>"$conn_results"; echo "slirp4netns connections/s: $r" >&2
done
held=$(nsenter -t "$ns" -n bash -c "ulimit -n 20000; $GUEST concurrent 10.0.2.2 15203 $CONNS" || echo 0)
printf 'slirp4netns\theld\t%s\n' "$held" >>"$conn_results"; echo "slirp4netns held: $held of $CONNS" >&2
kill "$slp" "$ns" 2>/dev/null || true; wait "$slp" "$ns" 2>/dev/null || true

python3 - "$results" "$conn_results" "$RUNS" "$DUR" "$CONNS" <<'PY' | tee "${OUT:-/dev/null}"
import sys, statistics, collections, math
rows = collections.defaultdict(list)
cpu = collections.defaultdict(list)        # the peer process's CPU seconds per GB moved
endpoints = collections.defaultdict(list)  # the iperf3 client's and server's CPU seconds per GB
for line in open(sys.argv[1]):
    peer, mtu, d, *fields = line.rstrip("\n").split("\t")
    try:
        gbit, moved, peer_cpu, endpoint_cpu = (float(x) for x in fields)
    except ValueError:
        continue
    if math.isnan(gbit) or moved <= 0:
        continue
    rows[(peer, mtu, d)].append(gbit)
    cpu[(peer, mtu, d)].append(peer_cpu / (moved / 1e9))
    endpoints[(peer, mtu, d)].append(endpoint_cpu / (moved / 1e9))
runs, dur, conns = sys.argv[3], sys.argv[4], sys.argv[5]
print(f"iperf3, {runs} runs of {dur} s each, Gbit/s min / median / max (same run for every peer)\n")
print("| direction | MTU | Slipway | slirp4netns | veth | Slipway / slirp4netns (median) |")
print("|---|---|---|---|---|---|")
mtus = sorted({k[1] for k in rows}, key=int)
for d in ("guest-to-host", "host-to-guest"):
    for mtu in mtus:
        cells, med = [], {}
        for peer in ("slipway", "slirp4netns", "veth"):
            v = rows.get((peer, mtu, d), [])
            if v:
                med[peer] = statistics.median(v)
                cells.append(f"{min(v):.2f} / {med[peer]:.2f} / {max(v):.2f}")
            else:
                cells.append("n/a")
        ratio = f"{med['slipway'] / med['slirp4netns']:.2f}x" if med.get("slirp4netns") and "slipway" in med else "n/a"
        print(f"| {d} | {mtu} | {cells[0]} | {cells[1]} | {cells[2]} | {ratio} |")
print(f"\nCPU seconds per GB moved, of the network peer's own process (Slipway's JVM, slirp4netns; veth has none), min / median / max; lower is better. The iperf3 endpoints' CPU per GB (client + server, medians) is shown apart: for veth it holds the kernel's forwarding.\n")
print("| direction | MTU | Slipway | slirp4netns | slirp4netns / Slipway (median) | endpoints: Slipway / slirp4netns / veth |")
print("|---|---|---|---|---|---|")
for d in ("guest-to-host", "host-to-guest"):
    for mtu in mtus:
        cells, med = [], {}
        for peer in ("slipway", "slirp4netns"):
            v = cpu.get((peer, mtu, d), [])
            if v:
                med[peer] = statistics.median(v)
                cells.append(f"{min(v):.2f} / {med[peer]:.2f} / {max(v):.2f}")
            else:
                cells.append("n/a")
        ratio = f"{med['slirp4netns'] / med['slipway']:.2f}x" if med.get("slipway") and "slirp4netns" in med else "n/a"
        ends = " / ".join(f"{statistics.median(endpoints[(p, mtu, d)]):.2f}" if endpoints.get((p, mtu, d)) else "n/a"
                          for p in ("slipway", "slirp4netns", "veth"))
        print(f"| {d} | {mtu} | {cells[0]} | {cells[1]} | {ratio} | {ends} |")
if any(k[0] == "slipway-baseline" for k in rows):
    print("\nSlipway against the baseline build in the same run (BASELINE_CP), medians: Gbit/s, and the JVM's CPU seconds per GB\n")
    print("| direction | MTU | Slipway Gbit/s | baseline Gbit/s | Slipway / baseline | Slipway CPU s/GB | baseline CPU s/GB |")
    print("|---|---|---|---|---|---|---|")
    for d in ("guest-to-host", "host-to-guest"):
        for mtu in mtus:
            a, b = rows.get(("slipway", mtu, d)), rows.get(("slipway-baseline", mtu, d))
            ca, cb = cpu.get(("slipway", mtu, d)), cpu.get(("slipway-baseline", mtu, d))
            if a and b:
                ma, mb = statistics.median(a), statistics.median(b)
                print(f"| {d} | {mtu} | {ma:.2f} | {mb:.2f} | {ma / mb:.2f}x | {statistics.median(ca):.2f} | {statistics.median(cb):.2f} |")
conn = collections.defaultdict(list)
for line in open(sys.argv[2]):
    peer, kind, v = line.rstrip("\n").split("\t")
    try:
        conn[(peer, kind)].append(float(v))
    except ValueError:
        pass
print(f"\nConnection setup (guest connect + reset-close to a host echo server, connections/s, min / median / max) and connections held open at once (of {conns}):\n")
print("| peer | connections/s | held |")
print("|---|---|---|")
for peer in ("slipway", "slirp4netns"):
    r = conn.get((peer, "rate"), [])
    h = conn.get((peer, "held"), [0])
    rs = f"{min(r):.0f} / {statistics.median(r):.0f} / {max(r):.0f}" if r else "n/a"
    print(f"| {peer} | {rs} | {int(h[0])} |")
PY

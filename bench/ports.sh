#!/usr/bin/env bash
# Published-port benchmark: host -> guest through a published port, Slipway (stack + tap into a
# namespace) vs slirp4netns's port forwarding (--api-socket, add_hostfwd) vs Docker's userland
# proxy docker-proxy (host loopback -> veth namespace, as Docker does on Linux), side by side in
# the same run. iperf3 both directions per MTU, several runs, min/median/max Gbit/s and ratios;
# then connections/s (connect, one byte echoed, close) through each published port.
# Usage: bench/ports.sh [runs=3] [seconds=5] [mtus="1500 65520"]   (root; iproute2 iperf3 slirp4netns python3)
# docker-proxy reports readiness on fd 3; it gets /dev/null there (an unrelated fd 3 would be closed by it).
# Env: DOCKER_PROXY (path to docker-proxy; default: on PATH or /usr/sbin/docker-proxy), RATE_SECONDS (5), OUT
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-5}; MTUS=${3:-"1500 65520"}; RATE_SECONDS=${RATE_SECONDS:-5}
cd "$(dirname "$0")/.."
for t in ip iperf3 slirp4netns python3 unshare nsenter java; do
  command -v "$t" >/dev/null || { echo "bench/ports.sh: missing $t (apt-get install -y iproute2 iperf3 slirp4netns)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/ports.sh: needs root (network namespaces, tap devices)" >&2; exit 2; }
DP=${DOCKER_PROXY:-$(command -v docker-proxy || echo /usr/sbin/docker-proxy)}
[ -x "$DP" ] || { echo "bench/ports.sh: no docker-proxy (apt-get install -y docker.io); its column stays n/a" >&2; DP=""; }

./mvnw -B -q -o install -DskipTests -pl networking/ports -am >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl networking/ports -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/slw-ports-cp.txt >/dev/null
./mvnw -B -q -o test-compile -pl networking/stack >/dev/null
CP="networking/ports/target/classes:networking/ports/target/test-classes:networking/stack/target/test-classes:$(cat /tmp/slw-ports-cp.txt)"
JAVA="java -XX:+UseParallelGC -Xss512k -cp $CP"
ECHO="java -Xss256k -cp networking/stack/target/test-classes dev.slipway.networking.stack.bench.BenchEcho 0.0.0.0 15203"

work=$(mktemp -d); pids=()
results="$work/results.tsv"; : >"$results"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del slw-bench-ports 2>/dev/null || true
  ip netns del slw-bench-dp 2>/dev/null || true
  ip link del slwdp0 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
gbit() { python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null || echo nan; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; printf '%-12s mtu %-6s %-14s %s\n' "$1" "$2" "$3" "$4" >&2; }
measure() { # peer mtu port
  record "$1" "$2" host-to-guest "$(iperf3 -c 127.0.0.1 -p "$3" -t "$DUR" -J | gbit)"
  record "$1" "$2" guest-to-host "$(iperf3 -c 127.0.0.1 -p "$3" -t "$DUR" -R -J | gbit)"
}
rate() { # peer port
  local r; r=$($JAVA dev.slipway.networking.ports.BenchConnRate 127.0.0.1 "$2" "$RATE_SECONDS" | cut -d' ' -f1)
  record "$1" 1500 connections/s "$r"
}
wait_listen() { # netns-exec-prefix port
  for _ in $(seq 1 100); do $1 ss -Hltn 2>/dev/null | grep -q ":$2 " && return 0; sleep 0.1; done; return 1
}

slipway_run() { # mtu with_rate
  ip netns del slw-bench-ports 2>/dev/null || true
  rm -f "$work/in"; mkfifo "$work/in"
  $JAVA dev.slipway.networking.ports.BenchPorts slw-bench-ports "$1" 15311:5201 15312:15203 <"$work/in" >"$work/sp.out" 2>"$work/sp.err" & local sp=$!
  exec 7>"$work/in"
  for _ in $(seq 1 150); do grep -q '^ready' "$work/sp.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$work/sp.out" || { echo "Slipway did not come up: $(cat "$work/sp.out" "$work/sp.err")" >&2; exec 7>&-; return 1; }
  ip netns exec slw-bench-ports iperf3 -s -p 5201 >/dev/null 2>&1 & local ip3=$!
  ip netns exec slw-bench-ports $ECHO >/dev/null 2>&1 & local ec=$!
  wait_listen "ip netns exec slw-bench-ports" 5201; wait_listen "ip netns exec slw-bench-ports" 15203
  measure slipway "$1" 15311
  [ "$2" = yes ] && rate slipway 15312
  kill "$ip3" "$ec" 2>/dev/null || true; wait "$ip3" "$ec" 2>/dev/null || true
  exec 7>&-; wait "$sp" 2>/dev/null || true
}

slirp_run() { # mtu with_rate
  unshare --net sleep 600 & local ns=$!; sleep 0.3
  rm -f "$work/slirp.sock"
  slirp4netns --configure --mtu="$1" --api-socket "$work/slirp.sock" "$ns" tap0 >"$work/slirp.log" 2>&1 & local slp=$!
  for _ in $(seq 1 50); do [ -S "$work/slirp.sock" ] && break; sleep 0.1; done
  nsenter -t "$ns" -n iperf3 -s -p 5201 >/dev/null 2>&1 & local ip3=$!
  nsenter -t "$ns" -n $ECHO >/dev/null 2>&1 & local ec=$!
  wait_listen "nsenter -t $ns -n" 5201; wait_listen "nsenter -t $ns -n" 15203
  for pp in "15321 5201" "15322 15203"; do
    set -- "$1" "$2" $pp
    python3 - "$work/slirp.sock" "$3" "$4" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(json.dumps({"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1",
    "host_port": int(sys.argv[2]), "guest_addr": "10.0.2.100", "guest_port": int(sys.argv[3])}}).encode())
r = s.recv(4096).decode()
if "error" in r: sys.exit("add_hostfwd: " + r)
PY
  done
  measure slirp4netns "$1" 15321
  [ "$2" = yes ] && rate slirp4netns 15322
  kill "$ip3" "$ec" "$slp" "$ns" 2>/dev/null || true; wait "$ip3" "$ec" "$slp" "$ns" 2>/dev/null || true
}

dockerproxy_run() { # mtu with_rate
  [ -n "$DP" ] || return 0
  ip netns del slw-bench-dp 2>/dev/null || true; ip link del slwdp0 2>/dev/null || true
  ip netns add slw-bench-dp
  ip link add slwdp0 mtu "$1" type veth peer name slwdp1 mtu "$1" netns slw-bench-dp
  ip addr add 10.78.0.1/24 dev slwdp0; ip link set slwdp0 up
  ip -n slw-bench-dp addr add 10.78.0.2/24 dev slwdp1; ip -n slw-bench-dp link set slwdp1 up; ip -n slw-bench-dp link set lo up
  ip netns exec slw-bench-dp iperf3 -s -p 5201 >/dev/null 2>&1 & local ip3=$!
  ip netns exec slw-bench-dp $ECHO >/dev/null 2>&1 & local ec=$!
  wait_listen "ip netns exec slw-bench-dp" 5201; wait_listen "ip netns exec slw-bench-dp" 15203
  "$DP" -proto tcp -host-ip 127.0.0.1 -host-port 15331 -container-ip 10.78.0.2 -container-port 5201 3>/dev/null & local d1=$!
  "$DP" -proto tcp -host-ip 127.0.0.1 -host-port 15332 -container-ip 10.78.0.2 -container-port 15203 3>/dev/null & local d2=$!
  sleep 0.5
  measure docker-proxy "$1" 15331
  [ "$2" = yes ] && rate docker-proxy 15332
  kill "$ip3" "$ec" "$d1" "$d2" 2>/dev/null || true; wait "$ip3" "$ec" "$d1" "$d2" 2>/dev/null || true
  ip netns del slw-bench-dp; ip link del slwdp0 2>/dev/null || true
}

first=$(echo $MTUS | cut -d' ' -f1)
for run in $(seq 1 "$RUNS"); do
  for mtu in $MTUS; do
    withrate=no; [ "$mtu" = "$first" ] && withrate=yes
    slipway_run "$mtu" "$withrate"
    slirp_run "$mtu" "$withrate"
    dockerproxy_run "$mtu" "$withrate"
  done
done

python3 - "$results" "$RUNS" "$DUR" "$RATE_SECONDS" <<'PY' | tee "${OUT:-/dev/null}"
import sys, statistics, collections, math
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    peer, mtu, d, v = line.rstrip("\n").split("\t")
    try:
        v = float(v)
    except ValueError:
        continue
    if not math.isnan(v):
        rows[(peer, mtu, d)].append(v)
runs, dur, rs = sys.argv[2], sys.argv[3], sys.argv[4]
peers = ("slipway", "slirp4netns", "docker-proxy")
def cell(v, fmt):
    return (fmt + " / " + fmt + " / " + fmt) % (min(v), statistics.median(v), max(v)) if v else "n/a"
def ratio(a, b):
    return f"{statistics.median(a) / statistics.median(b):.2f}x" if a and b and statistics.median(b) > 0 else "n/a"
print(f"iperf3 through a published port on 127.0.0.1, {runs} runs of {dur} s, Gbit/s min / median / max (same run for every peer)\n")
print("| direction | MTU | Slipway | slirp4netns | docker-proxy | Slipway / slirp4netns | Slipway / docker-proxy |")
print("|---|---|---|---|---|---|---|")
mtus = sorted({k[1] for k in rows if k[2] != "connections/s"}, key=int)
for d in ("host-to-guest", "guest-to-host"):
    for mtu in mtus:
        v = [rows.get((p, mtu, d), []) for p in peers]
        print(f"| {d} | {mtu} | {cell(v[0], '%.2f')} | {cell(v[1], '%.2f')} | {cell(v[2], '%.2f')} | {ratio(v[0], v[1])} | {ratio(v[0], v[2])} |")
v = [rows.get((p, "1500", "connections/s"), []) for p in peers]
print(f"\nConnections/s through the published port (connect, one byte echoed by the guest, close; {rs} s per run, min / median / max):\n")
print("| Slipway | slirp4netns | docker-proxy | Slipway / slirp4netns | Slipway / docker-proxy |")
print("|---|---|---|---|---|")
print(f"| {cell(v[0], '%.0f')} | {cell(v[1], '%.0f')} | {cell(v[2], '%.0f')} | {ratio(v[0], v[1])} | {ratio(v[0], v[2])} |")
PY

#!/usr/bin/env bash
# IPv6 throughput: Slipway's stack over IPv6 against the same stack over IPv4, slirp4netns --enable-ipv6
# and pasta, side by side in the same run. iperf3 from a guest namespace to a server on the host's
# loopback (Slipway: the host alias, 192.168.65.254 and fd00:5e7a:1e55::254; slirp4netns: 10.0.2.2 and
# fd00::2; pasta: the namespace's default gateways, which it maps to the host's loopback), both
# directions, several runs; min/median/max Gbit/s and the ratios IPv6/IPv4 and Slipway/peer.
# Usage: bench/net-ipv6.sh [runs=3] [seconds=5] [mtus="1500"]  (root; iproute2 iperf3 slirp4netns passt python3)
# Raw iperf3 figures go to bench/results/net-ipv6-DATE.tsv, the table (with the load average) to bench/results/net-ipv6-DATE.txt.
set -euo pipefail
RUNS=${1:-3}; DUR=${2:-5}; MTUS=${3:-"1500"}
cd "$(dirname "$0")/.."
for t in ip iperf3 slirp4netns pasta python3 unshare nsenter setpriv java; do
  command -v "$t" >/dev/null || { echo "bench/net-ipv6.sh: missing $t (apt-get install -y iproute2 iperf3 slirp4netns passt)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/net-ipv6.sh: needs root (network namespaces, tap devices)" >&2; exit 2; }

./mvnw -B -q -o install -pl networking/stack -am -DskipTests >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl networking/stack -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/slw-bench-v6-cp.txt >/dev/null
CP="networking/stack/target/classes:networking/stack/target/test-classes:$(cat /tmp/slw-bench-v6-cp.txt)"
NS=slw-bench-v6
STAMP=$(date -u +%Y-%m-%dT%H%M)  # to the minute: a second run the same day keeps the first
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
mkdir -p bench/results
RAW="bench/results/net-ipv6-$STAMP.tsv"; TABLE="bench/results/net-ipv6-$STAMP.txt"
: >"$RAW"

work=$(mktemp -d); pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# run PEER FAMILY MTU DIRECTION COMMAND...: one iperf3 client (-J), its Gbit/s appended to the raw file
run() {
  local peer=$1 family=$2 mtu=$3 dir=$4 g; shift 4
  g=$("$@" 2>/dev/null | python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null || echo nan)
  printf '%s\t%s\t%s\t%s\t%s\n' "$peer" "$family" "$mtu" "$dir" "$g" >>"$RAW"
  printf '%-12s %-5s mtu %-6s %-13s %s Gbit/s\n' "$peer" "$family" "$mtu" "$dir" "$g" >&2
}
both() { # PEER FAMILY MTU COMMAND... (iperf3 client without -R)
  local peer=$1 family=$2 mtu=$3; shift 3
  run "$peer" "$family" "$mtu" guest-to-host "$@" -t "$DUR" -J
  run "$peer" "$family" "$mtu" host-to-guest "$@" -t "$DUR" -R -J
}
# waits (bounded) until COMMAND... lists a global IPv6 address that finished duplicate detection
wait_v6() {
  for _ in $(seq 1 150); do
    "$@" ip -6 -o addr show scope global 2>/dev/null | grep -v tentative | grep -q inet6 && return 0
    sleep 0.2
  done
  echo "no IPv6 address in the namespace within 30 s" >&2; return 1
}

iperf3 -s -B 127.0.0.1 -p 15211 >/dev/null 2>&1 & pids+=($!)
iperf3 -s -B ::1 -p 15212 >/dev/null 2>&1 & pids+=($!)
sleep 0.3

for r in $(seq 1 "$RUNS"); do
  for mtu in $MTUS; do
    # Slipway: the stack on a tap into a namespace; SLAAC from its router advertisement
    ip netns del "$NS" 2>/dev/null || true
    rm -f "$work/in"; mkfifo "$work/in"
    java -XX:+UseParallelGC -Xss512k -cp "$CP" dev.slipway.networking.stack.bench.BenchStack "$NS" "$mtu" <"$work/in" >"$work/stack.out" 2>"$work/stack.err" & sp=$!
    exec 7>"$work/in"
    for _ in $(seq 1 100); do grep -q '^ready' "$work/stack.out" 2>/dev/null && break; sleep 0.1; done
    grep -q '^ready' "$work/stack.out" || { echo "Slipway did not come up: $(cat "$work/stack.out" "$work/stack.err")" >&2; exit 1; }
    wait_v6 ip netns exec "$NS"
    both slipway ipv4 "$mtu" ip netns exec "$NS" iperf3 -c 192.168.65.254 -p 15211
    both slipway ipv6 "$mtu" ip netns exec "$NS" iperf3 -6 -c fd00:5e7a:1e55::254 -p 15212
    exec 7>&-; wait "$sp" 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true

    # slirp4netns with IPv6: 10.0.2.2 and fd00::2 are the host's loopback
    unshare --net sleep $((4 * DUR + 60)) & ns=$!; sleep 0.3
    slirp4netns --configure --enable-ipv6 --mtu="$mtu" "$ns" tap0 >"$work/slirp.log" 2>&1 & slp=$!; sleep 1
    both slirp4netns ipv4 "$mtu" nsenter -t "$ns" -n iperf3 -c 10.0.2.2 -p 15211
    if wait_v6 nsenter -t "$ns" -n; then
      both slirp4netns ipv6 "$mtu" nsenter -t "$ns" -n iperf3 -6 -c fd00::2 -p 15212
    fi
    kill "$slp" "$ns" 2>/dev/null || true; wait "$slp" "$ns" 2>/dev/null || true

    # pasta refuses root: as nobody, in its own user and network namespace; the gateways map to the host's loopback
    gw4=$(ip route | awk '/^default/{print $3; exit}')
    gw6=$(ip -6 route | awk '/^default/{print $3; exit}')
    pasta_run() { setpriv --reuid=65534 --regid=65534 --clear-groups pasta --config-net -q --mtu "$mtu" -- "$@"; }
    both pasta ipv4 "$mtu" pasta_run iperf3 -c "$gw4" -p 15211
    if [ -n "$gw6" ]; then
      both pasta ipv6 "$mtu" pasta_run iperf3 -6 -c "$gw6" -p 15212
    fi
  done
done

python3 - "$RAW" "$RUNS" "$DUR" <<'PY' | tee "$TABLE"
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(list)
for peer, family, mtu, direction, g in rows:
    if g != "nan":
        by[(peer, family, mtu, direction)].append(float(g))
print("IPv6 throughput, %s runs of %s s each, iperf3 Gbit/s (min / median / max)" % (sys.argv[2], sys.argv[3]))
print()
print("| peer | family | MTU | direction | min | median | max |")
print("|---|---|---|---|---|---|---|")
for (peer, family, mtu, direction), v in sorted(by.items()):
    print("| %s | %s | %s | %s | %.2f | %.2f | %.2f |" % (peer, family, mtu, direction, min(v), statistics.median(v), max(v)))
print()
print("| ratio of medians | MTU | direction | value |")
print("|---|---|---|---|")
med = {k: statistics.median(v) for k, v in by.items()}
for (peer, family, mtu, direction), m in sorted(med.items()):
    if peer != "slipway" or family != "ipv6":
        continue
    for label, other in (("Slipway IPv6 / Slipway IPv4", ("slipway", "ipv4")),
                         ("Slipway IPv6 / slirp4netns IPv6", ("slirp4netns", "ipv6")),
                         ("Slipway IPv6 / pasta IPv6", ("pasta", "ipv6"))):
        o = med.get((other[0], other[1], mtu, direction))
        print("| %s | %s | %s | %s |" % (label, mtu, direction, "%.2f" % (m / o) if o else "n/a"))
PY
printf '\nLoad average (1/5/15 min): %s at the start, %s at the end.\n' "$LOAD_BEFORE" "$(cut -d" " -f1-3 /proc/loadavg)" | tee -a "$TABLE"
echo "raw: $RAW, table: $TABLE" >&2

#!/usr/bin/env bash
# Connection scale: Slipway's stack (tap into a namespace), slirp4netns and a kernel veth pair, side
# by side in the same run, against one host echo server on loopback (reached through the host alias).
#   1. new connections per second (connect, reset-close; PARALLEL in flight), RUNS runs per peer
#   2. HOLD connections opened and held at once; then each echoes a byte; how many still work
#   3. CYCLE connections opened and closed in sequence: RSS and descriptors of the Slipway process
#      after the first 10,000 and at the end (and slirp4netns's RSS over SLIRP_CYCLE of them)
# The guest client is dev.slipway.networking.stack.bench.ConnectionLoad (one thread, non-blocking sockets); the
# same client over the veth pair shows what the client, the server and the kernel manage alone.
# Usage: bench/net-scale.sh [runs=5] [seconds=5] [cycle=1000000]   (root; iproute2 slirp4netns python3 java)
# Env: PARALLEL (32), HOLD (10000), SLIRP_CYCLE (100000), CYCLE_SECONDS (600, bound per peer),
#      STACK_JAVA_OPTS (Slipway's JVM), MVN_FLAGS (extra Maven flags), OUT (also write the tables there)
set -euo pipefail
RUNS=${1:-5}; DUR=${2:-5}; CYCLE=${3:-1000000}
PARALLEL=${PARALLEL:-32}; HOLD=${HOLD:-10000}; SLIRP_CYCLE=${SLIRP_CYCLE:-100000}; CYCLE_SECONDS=${CYCLE_SECONDS:-600}
# the runtime's defaults plus a bounded heap: with the JVM's default initial heap (1/64 of RAM) the first
# pass through the young generation alone takes ~100k connections and RSS after 10,000 would measure that
STACK_JAVA_OPTS=${STACK_JAVA_OPTS:-"-XX:+UseSerialGC -Xss512k -XX:MaxMetaspaceSize=128m -Xms32m -Xmx256m"}
cd "$(dirname "$0")/.."
for t in ip slirp4netns python3 unshare nsenter java; do
  command -v "$t" >/dev/null || { echo "bench/net-scale.sh: missing $t (apt-get install -y iproute2 slirp4netns)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/net-scale.sh: needs root (network namespaces, tap devices)" >&2; exit 2; }
# each of the peer, the echo server and the guest client holds HOLD descriptors at once; take up to
# four times that where the hard limit allows (slirp4netns keeps host sockets a while after a reset)
NEED=$((HOLD + 2048)); hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=$((4 * NEED))
if [ "$hard" -lt "$NEED" ]; then
  ulimit -Hn "$NEED" 2>/dev/null || { echo "bench/net-scale.sh: needs $NEED descriptors per process, the hard limit is $hard (lower HOLD)" >&2; exit 2; }
  hard=$NEED
fi
NOFILE=$(( hard < 4 * NEED ? hard : 4 * NEED ))
ulimit -n "$NOFILE"

work=$(mktemp -d); pids=()
cp_file="$work/cp.txt"
# shellcheck disable=SC2086
./mvnw -B -q -o ${MVN_FLAGS:-} package dependency:build-classpath -pl networking/stack -am -DskipTests \
  -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
CP="networking/stack/target/classes:networking/stack/target/test-classes:$(cat "$cp_file")"
GUEST="java -XX:+UseSerialGC -Xss256k -XX:TieredStopAtLevel=1 -cp networking/stack/target/test-classes dev.slipway.networking.stack.bench.ConnectionLoad"
results="$work/results.tsv"; : >"$results"
NS_VETH=slw-scale-veth; NS_SLIPWAY=slw-scale-slipway
cleanup() {
  exec 7>&- 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS_VETH" 2>/dev/null || true
  ip netns del "$NS_SLIPWAY" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; printf '%-12s %-10s %s\n' "$1" "$2" "$3" >&2; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_for() { for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "no '$2' in $1: $(cat "$1")" >&2; return 1; }

# host echo servers, one per peer so that one peer's leftovers cannot starve another's: on loopback
# for Slipway (through its host alias) and slirp4netns (through 10.0.2.2), on its address for veth
java -XX:+UseSerialGC -cp "$CP" dev.slipway.networking.stack.bench.BenchEcho 127.0.0.1 15303 >"$work/echo.out" 2>&1 & pids+=($!)
wait_for "$work/echo.out" ready
java -XX:+UseSerialGC -cp "$CP" dev.slipway.networking.stack.bench.BenchEcho 127.0.0.1 15305 >"$work/echo-slirp.out" 2>&1 & pids+=($!)
wait_for "$work/echo-slirp.out" ready

ip netns del "$NS_VETH" 2>/dev/null || true
ip netns add "$NS_VETH"
ip link add slwsv0 type veth peer name slwsv1 netns "$NS_VETH"
ip addr add 10.78.0.1/24 dev slwsv0; ip link set slwsv0 up
ip -n "$NS_VETH" addr add 10.78.0.2/24 dev slwsv1; ip -n "$NS_VETH" link set slwsv1 up; ip -n "$NS_VETH" link set lo up
java -XX:+UseSerialGC -cp "$CP" dev.slipway.networking.stack.bench.BenchEcho 10.78.0.1 15304 >"$work/echo-veth.out" 2>&1 & pids+=($!)
wait_for "$work/echo-veth.out" ready

# Slipway, run with the runtime's JVM options and a bounded heap; each phase below gets a fresh one
slipway_start() {
  ip netns del "$NS_SLIPWAY" 2>/dev/null || true
  rm -f "$work/in"; mkfifo "$work/in"
  # shellcheck disable=SC2086
  java $STACK_JAVA_OPTS -cp "$CP" dev.slipway.networking.stack.bench.BenchStack "$NS_SLIPWAY" 1500 <"$work/in" >"$work/stack.out" 2>"$work/stack.err" & sp=$!; pids+=($sp)
  exec 7>"$work/in"
  wait_for "$work/stack.out" '^ready'
}
slipway_stop() {
  exec 7>&-
  for _ in $(seq 1 50); do kill -0 "$sp" 2>/dev/null || break; sleep 0.1; done
  ip netns del "$NS_SLIPWAY" 2>/dev/null || true
}
# slirp4netns: a namespace held by a sleeping process (started without Slipway's input pipe, which
# must close for Slipway to stop)
slirp_start() {
  unshare --net sleep 86400 7>&- & slns=$!; pids+=($slns); sleep 0.3
  slirp4netns --configure --mtu=1500 "$slns" tap0 >"$work/slirp.log" 2>&1 7>&- & slp=$!; pids+=($slp); sleep 1
}
slirp_stop() { kill "$slp" "$slns" 2>/dev/null || true; wait "$slp" "$slns" 2>/dev/null || true; }

in_veth() { ip netns exec "$NS_VETH" bash -c "ulimit -n $NOFILE; $*"; }
in_slipway() { ip netns exec "$NS_SLIPWAY" bash -c "ulimit -n $NOFILE; $*"; }
in_slirp() { nsenter -t "$slns" -n bash -c "ulimit -n $NOFILE; $*"; }

# 1. connections per second, the peers in turn within each run; CPU of the peer's process per connection
measure_rate() { # peer runner address port pid
  local c0 c1 r
  c0=$([ -n "$5" ] && cpu_ticks "$5" || echo 0)
  r=$($2 "$GUEST rate $3 $4 $DUR $PARALLEL 0")
  c1=$([ -n "$5" ] && cpu_ticks "$5" || echo 0)
  record "$1" rate "${r%% *}"
  record "$1" failed "${r##* }"
  [ -n "$5" ] && record "$1" cpu_us "$(python3 -c "print(round(($c1 - $c0) * 1e4 / max(1, ${r%% *} * $DUR), 1))")"
  return 0
}
slipway_start; slirp_start
for run in $(seq 1 "$RUNS"); do
  measure_rate veth in_veth 10.78.0.1 15304 ""
  measure_rate slipway in_slipway 192.168.65.254 15303 "$sp"
  measure_rate slirp4netns in_slirp 10.0.2.2 15305 "$slp"
done

# 2. connections held at once, then each echoes a byte (60 s to open them all, 30 s for the echoes)
hold() { # peer runner address port
  local r; r=$($2 "$GUEST hold $3 $4 $HOLD")
  record "$1" held_working "${r%% *}"
  record "$1" held_opened "${r##* }"
  sleep 2
}
hold veth in_veth 10.78.0.1 15304
hold slipway in_slipway 192.168.65.254 15303
hold slirp4netns in_slirp 10.0.2.2 15305
slipway_stop; slirp_stop

# 3. open and close in sequence, each peer fresh: its RSS and descriptors after 10,000 and at the end
cycle() { # peer runner address port pid count
  $2 "$GUEST cycle $3 $4 $6 $PARALLEL $5 10000 $CYCLE_SECONDS" | while read -r n rss fds failed secs; do
    record "$1" "cycle_$n" "$rss $fds $failed $secs"
  done
}
slipway_start
cycle slipway in_slipway 192.168.65.254 15303 "$sp" "$CYCLE"
slipway_stop
slirp_start
cycle slirp4netns in_slirp 10.0.2.2 15305 "$slp" "$SLIRP_CYCLE"
slirp_stop

python3 - "$results" "$RUNS" "$DUR" "$PARALLEL" "$HOLD" <<'PY' | tee "${OUT:-/dev/null}"
import sys, statistics, collections
rows = collections.defaultdict(list)
cycles = collections.defaultdict(list)
for line in open(sys.argv[1]):
    peer, kind, value = line.rstrip("\n").split("\t")
    if kind.startswith("cycle_"):
        rss, fds, failed, secs = value.split()
        cycles[peer].append((int(kind[6:]), int(rss), int(fds), int(failed), float(secs)))
        continue
    try:
        rows[(peer, kind)].append(float(value))
    except ValueError:
        pass
runs, dur, parallel, hold = sys.argv[2:6]
def mmm(v, fmt="{:.0f}"):
    return " / ".join(fmt.format(x) for x in (min(v), statistics.median(v), max(v))) if v else "n/a"
print(f"New connections per second from the guest to a host server on loopback (connect, reset-close; "
      f"{parallel} in flight; {runs} runs of {dur} s, min / median / max; same run for every peer)\n")
print("| peer | connections/s | ratio to slirp4netns (median) | ratio to veth (median) | failed | peer process CPU per connection (µs, median) |")
print("|---|---|---|---|---|---|")
med = {p: statistics.median(rows[(p, "rate")]) for p in ("slipway", "slirp4netns", "veth") if rows[(p, "rate")]}
for peer in ("slipway", "slirp4netns", "veth"):
    r = rows[(peer, "rate")]
    ratio = f"{med[peer] / med['slirp4netns']:.2f}x" if peer in med and med.get("slirp4netns") else "n/a"
    vratio = f"{med[peer] / med['veth']:.2f}x" if peer in med and med.get("veth") else "n/a"
    cpu = rows[(peer, "cpu_us")]
    print(f"| {peer} | {mmm(r)} | {ratio} | {vratio} | {int(sum(rows[(peer, 'failed')]))} | "
          f"{statistics.median(cpu):.1f} |" if cpu else f"| {peer} | {mmm(r)} | {ratio} | {vratio} | {int(sum(rows[(peer, 'failed')]))} | (kernel) |")
print(f"\n{hold} connections opened and held at once, then each echoes one byte\n")
print("| peer | opened | working at the end |")
print("|---|---|---|")
for peer in ("slipway", "slirp4netns", "veth"):
    o, w = rows[(peer, "held_opened")], rows[(peer, "held_working")]
    print(f"| {peer} | {int(o[0]) if o else 'n/a'} | {int(w[0]) if w else 'n/a'} |")
print("\nConnections opened and closed in sequence: the peer process's resident memory and descriptors\n")
print("| peer | connections | RSS (MiB) | descriptors | failed | elapsed (s) | RSS / at 10,000 | descriptors / at 10,000 |")
print("|---|---|---|---|---|---|---|---|")
for peer in ("slipway", "slirp4netns"):
    c = cycles.get(peer, [])
    if not c:
        continue
    base = c[0]
    for n, rss, fds, failed, secs in c:
        print(f"| {peer} | {n} | {rss / 1024:.1f} | {fds} | {failed} | {secs:.0f} | {rss / base[1]:.2f} | {fds / base[2]:.2f} |")
PY

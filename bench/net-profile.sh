#!/usr/bin/env bash
# JFR profile of Slipway's stack under iperf3 load: the stack runs as in bench/net.sh (tap into a
# namespace), is warmed up, then each direction at each MTU is recorded on its own (JFR "profile"
# settings sampling every 1 ms, -XX:+DebugNonSafepoints) and turned into folded stacks and flame
# graphs (SVG) by bench/flame.py: Java CPU samples, and samples of threads in native code. Since
# JFR does not see time inside system calls (most of the stack's CPU), the same runs are also
# sampled by perf when it is installed (kernel included; Java frames named from the JVM's perf
# map). Also prints Gbit/s and the stack's CPU split (user / system) for each recording.
# Usage: bench/net-profile.sh [seconds=10] [mtus="1500 65520"] [outdir=bench/results/profile]   (root)
# Maven flags such as -Dmaven.repo.local=... go in MAVEN_ARGS.
set -euo pipefail
DUR=${1:-10}; MTUS=${2:-"1500 65520"}; OUTDIR=${3:-bench/results/profile}
cd "$(dirname "$0")/.."
for t in ip iperf3 python3 java jcmd jfr; do
  command -v "$t" >/dev/null || { echo "bench/net-profile.sh: missing $t" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/net-profile.sh: needs root (network namespaces, tap devices)" >&2; exit 2; }
mkdir -p "$OUTDIR"

./mvnw -B -q -o install -pl networking/stack -am -DskipTests >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl networking/stack -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/slw-profile-cp.txt >/dev/null
CP="networking/stack/target/classes:networking/stack/target/test-classes:$(cat /tmp/slw-profile-cp.txt)"
JAVA="java -XX:+UseParallelGC -Xss512k -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -XX:+PreserveFramePointer -XX:+DumpPerfMapAtExit -cp $CP"
PERF=$(command -v perf || true)
NS=slw-profile

work=$(mktemp -d); pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
iperf3 -s -B 127.0.0.1 -p 15221 >/dev/null 2>&1 & pids+=($!)
sleep 0.3
HZ=$(getconf CLK_TCK)
summary="$OUTDIR/summary.txt"; : >"$summary"
# JFR's profile settings, sampling every millisecond instead of every 10 (Java) and 20 (native)
jfr configure --input profile jdk.ExecutionSample#period=1ms jdk.NativeMethodSample#period=1ms --output "$work/sampling.jfc" >/dev/null

for mtu in $MTUS; do
  ip netns del "$NS" 2>/dev/null || true
  rm -f "$work/in"; mkfifo "$work/in"
  $JAVA dev.slipway.networking.stack.bench.BenchStack "$NS" "$mtu" <"$work/in" >"$work/stack.out" 2>"$work/stack.err" & sp=$!
  exec 7>"$work/in"
  for _ in $(seq 1 100); do grep -q '^ready' "$work/stack.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^ready' "$work/stack.out" || { echo "the stack did not come up: $(cat "$work/stack.err")" >&2; exit 1; }
  # warm-up: both directions, so the recordings show compiled code
  ip netns exec "$NS" iperf3 -c 192.168.65.254 -p 15221 -t 3 >/dev/null
  ip netns exec "$NS" iperf3 -c 192.168.65.254 -p 15221 -t 3 -R >/dev/null
  for dir in guest-to-host host-to-guest; do
    name="slipway-$dir-mtu$mtu"
    flag=""; [ "$dir" = host-to-guest ] && flag="-R"
    jcmd "$sp" JFR.start name="$name" settings="$work/sampling.jfc" filename="$work/$name.jfr" >/dev/null
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$sp/stat")
    if [ -n "$PERF" ]; then
      "$PERF" record -q -F 999 -g -p "$sp" -o "$work/$name.perf" -- sleep "$((DUR - 1))" >/dev/null 2>&1 & perf_pid=$!
    fi
    gbit=$(ip netns exec "$NS" iperf3 -c 192.168.65.254 -p 15221 -t "$DUR" $flag -J \
      | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))')
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$sp/stat")
    jcmd "$sp" JFR.stop name="$name" >/dev/null
    [ -n "$PERF" ] && wait "$perf_pid" || true
    cpu=$(python3 -c "u=($u1-$u0)/$HZ; s=($s1-$s0)/$HZ; print(f'CPU {u+s:.1f} s in {$DUR} s: user {u:.1f} s, system {s:.1f} s ({100*s/max(u+s,0.01):.0f} % system)')")
    echo "== $name: $gbit Gbit/s, stack $cpu" | tee -a "$summary"
    bench/flame.py jfr "$work/$name.jfr" "$OUTDIR/$name-jfr" "Slipway stack, Java samples (JFR), iperf3 $dir, MTU $mtu: $gbit Gbit/s, $cpu" | tee -a "$summary"
    bench/flame.py jfr-native "$work/$name.jfr" "$OUTDIR/$name-jfr-native" "Slipway stack, threads in native code (JFR: system calls and waits), iperf3 $dir, MTU $mtu" | tee -a "$summary"
  done
  exec 7>&-; wait "$sp" 2>/dev/null || true   # the JVM writes its perf map as it exits
  if [ -n "$PERF" ]; then
    for dir in guest-to-host host-to-guest; do
      name="slipway-$dir-mtu$mtu"
      bench/flame.py perf "$work/$name.perf" "$OUTDIR/$name-perf" "Slipway stack, all CPU samples (perf, kernel included), iperf3 $dir, MTU $mtu" | tee -a "$summary"
    done
  fi
  ip netns del "$NS" 2>/dev/null || true
done

#!/usr/bin/env bash
# docker version round trip: through Slipway's published engine socket (host Unix socket -> stack ->
# guest namespace TCP 2375) vs straight to the engine's own socket (a host Unix socket), same run.
# No engine runs in this sandbox: both sides are the engine-API responder the tests use
# (networking/ports/src/test/resources/engine-responder.py: /_ping, /version, /info).
# Measures the docker CLI (`docker -H unix://... version`, process start included) and the bare
# HTTP round trip (`curl --unix-socket ... /v1.41/version`). min / median / max milliseconds.
# Usage: bench/docker-socket.sh [rounds=30]   (root; iproute2 busybox python3 curl docker)
set -euo pipefail
ROUNDS=${1:-30}
cd "$(dirname "$0")/.."
for t in ip python3 curl docker java; do
  command -v "$t" >/dev/null || { echo "bench/docker-socket.sh: missing $t" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/docker-socket.sh: needs root (network namespaces, tap devices)" >&2; exit 2; }
./mvnw -B -q -o install -DskipTests -pl networking/ports -am >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl networking/ports -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/slw-ports-cp.txt >/dev/null
./mvnw -B -q -o test-compile -pl networking/ports >/dev/null
CP="networking/ports/target/classes:networking/ports/target/test-classes:$(cat /tmp/slw-ports-cp.txt)"
RESPONDER=networking/ports/src/test/resources/engine-responder.py
work=$(mktemp -d); pids=()
cleanup() { exec 7>&- 2>/dev/null || true; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; ip netns del slw-bench-docker 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns del slw-bench-docker 2>/dev/null || true
mkfifo "$work/in"
java -cp "$CP" dev.slipway.networking.ports.BenchPorts slw-bench-docker 1500 "unix:$work/docker.sock:2375" <"$work/in" >"$work/sp.out" 2>"$work/sp.err" & pids+=($!)
exec 7>"$work/in"
for _ in $(seq 1 150); do grep -q '^ready' "$work/sp.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$work/sp.out" || { echo "Slipway did not come up: $(cat "$work/sp.out" "$work/sp.err")" >&2; exit 1; }
ip netns exec slw-bench-docker python3 "$RESPONDER" tcp 2375 >/dev/null 2>&1 & pids+=($!)
python3 "$RESPONDER" unix "$work/engine.sock" >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 1 100); do ip netns exec slw-bench-docker ss -Hltn | grep -q ':2375 ' && [ -S "$work/engine.sock" ] && break; sleep 0.1; done
res="$work/res.tsv"; : >"$res"
ms() { python3 -c 'import sys,time; print("%.2f" % ((time.perf_counter_ns()-int(sys.argv[1]))/1e6))' "$1"; }
for r in $(seq 1 "$ROUNDS"); do
  for path in slipway direct; do
    sock="$work/docker.sock"; [ "$path" = direct ] && sock="$work/engine.sock"
    t0=$(python3 -c 'import time; print(time.perf_counter_ns())')
    docker -H "unix://$sock" version --format '{{.Server.Version}}' >/dev/null
    printf '%s\tcli\t%s\n' "$path" "$(ms "$t0")" >>"$res"
    c=$(curl -s -o /dev/null -w '%{time_total}' --unix-socket "$sock" http://engine/v1.41/version)
    printf '%s\thttp\t%s\n' "$path" "$(python3 -c "print('%.3f' % ($c*1000))")" >>"$res"
  done
done
python3 - "$res" "$ROUNDS" <<'PY' | tee "${OUT:-/dev/null}"
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    path, kind, v = line.rstrip("\n").split("\t")
    rows[(path, kind)].append(float(v))
print(f"docker version round trip, {sys.argv[2]} rounds, milliseconds min / median / max (same run)\n")
print("| measure | through Slipway's published socket | straight to the engine's socket | Slipway / straight (median) |")
print("|---|---|---|---|")
for kind, label in (("cli", "`docker -H unix://... version` (CLI process included)"), ("http", "HTTP `GET /v1.41/version` (curl)")):
    a, b = rows[("slipway", kind)], rows[("direct", kind)]
    f = lambda v: f"{min(v):.2f} / {statistics.median(v):.2f} / {max(v):.2f}"
    print(f"| {label} | {f(a)} | {f(b)} | {statistics.median(a) / statistics.median(b):.2f}x |")
PY

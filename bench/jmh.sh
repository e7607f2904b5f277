#!/usr/bin/env bash
# Microbenchmarks of the network stack's frame path (JMH, module networking/jmh): frame parse and
# dispatch, the Internet checksum against the textbook loop, a guest TCP segment into a host socket,
# host data out to guest frames (TSO and software segmentation). Prints ns/op and the bytes
# allocated per op (JMH's gc profiler, every thread of the benchmark JVM counted).
# Usage: bench/jmh.sh [JMH regex or options...]
# Env: FORKS (1), WARMUPS (3), ITERATIONS (5), ITERATION_SECONDS (1), OUT (also write the table there)
# Maven flags such as -Dmaven.repo.local=... go in MAVEN_ARGS.
set -euo pipefail
FORKS=${FORKS:-1}; WARMUPS=${WARMUPS:-3}; ITERATIONS=${ITERATIONS:-5}; SECONDS_PER=${ITERATION_SECONDS:-1}
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

./mvnw -B -q -o install -pl networking/jmh -am -DskipTests >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl networking/jmh -Dmdep.outputFile="$work/cp.txt" >/dev/null
java -cp "networking/jmh/target/classes:$(cat "$work/cp.txt")" org.openjdk.jmh.Main \
  -f "$FORKS" -wi "$WARMUPS" -w "${SECONDS_PER}s" -i "$ITERATIONS" -r "${SECONDS_PER}s" \
  -prof gc -rf json -rff "$work/jmh.json" "$@" >"$work/jmh.log" 2>&1 || { cat "$work/jmh.log"; exit 1; }
grep -h 'bytes in' "$work/jmh.log" | sort | uniq -c | sort -rn | head -4 >&2 || true

python3 - "$work/jmh.json" "$FORKS" "$ITERATIONS" "$SECONDS_PER" <<'PY' | tee "${OUT:-/dev/null}"
import json, sys
results = json.load(open(sys.argv[1]))
forks, iterations, seconds = sys.argv[2:5]
# payload bytes one operation carries, for a throughput column
def payload(name, params):
    if name.startswith("Checksum"):
        return int(params["bytes"])
    if name.startswith("TcpSegmentIn"):
        return int(params["payloadBytes"])
    if name.startswith("TcpSegmentOut"):
        return 44 * 1460
    return None
print(f"JMH, {forks} fork(s) x {iterations} iterations of {seconds} s, average time per operation; "
      "allocated = gc.alloc.rate.norm (bytes per operation, all threads)\n")
print("| benchmark | case | ns/op | ± (99.9 %) | Gbit/s of payload | allocated B/op |")
print("|---|---|---:|---:|---:|---:|")
for r in results:
    name = r["benchmark"].rsplit(".", 2)[-2] + "." + r["benchmark"].rsplit(".", 1)[-1]
    params = r.get("params", {})
    case = ", ".join(f"{k}={v}" for k, v in params.items())
    m = r["primaryMetric"]
    score, err = m["score"], float(m["scoreError"])
    alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
    p = payload(name, params)
    gbit = f"{p * 8 / score:.1f}" if p else ""
    err_text = f"{err:.1f}" if err == err else "n/a"
    alloc_text = f"{alloc:.3f}" if alloc is not None else "n/a"
    print(f"| {name} | {case} | {score:,.1f} | {err_text} | {gbit} | {alloc_text} |")
PY

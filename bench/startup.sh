#!/usr/bin/env bash
# Runtime start: `./slipway up -d` until status says ready:true, and the heap in use after start
# (after a full GC), over several runs. Usage: bench/startup.sh [runs]   (needs a built distribution)
# Output: a Markdown table with min/median/max.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${1:-7}
home=$(mktemp -d)
export SLIPWAY_HOME="$home"
cleanup() { "$root/slipway" down >/dev/null 2>&1 || true; rm -rf "$home"; }
trap cleanup EXIT
"$root/slipway" status >/dev/null 2>&1 || true   # builds the distribution if needed, outside the timing
# The first start in a new home writes the class-data archive when it stops; timed on its own.
t0=$(date +%s%N); "$root/slipway" up -d >/dev/null; t1=$(date +%s%N); "$root/slipway" down >/dev/null
first=$(( (t1 - t0) / 1000000 ))
ready=(); wall=(); heap=(); cpu=()
for i in $(seq 1 "$RUNS"); do
  t0=$(date +%s%N)
  out=$("$root/slipway" up -d)
  t1=$(date +%s%N)
  ready+=("$(sed -n 's/.*ready in \([0-9]*\) ms.*/\1/p' <<<"$out")")
  wall+=("$(( (t1 - t0) / 1000000 ))")
  pid=$(sed -n 's/.*(pid \([0-9]*\),.*/\1/p' <<<"$out")
  jcmd "$pid" GC.run >/dev/null
  heap+=("$("$root/slipway" status --json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["memory"]["heapUsedBytes"]/1048576,1))')")
  cpu+=("$(awk '{print ($14+$15)*10}' /proc/"$pid"/stat)")
  "$root/slipway" down >/dev/null
done
stats() { python3 -c 'import sys,statistics as s; v=[float(x) for x in sys.argv[1:]]; print("%g | %g | %g" % (min(v), s.median(v), max(v)))' "$@"; }
echo "| measure ($RUNS runs, $(nproc) cores) | min | median | max |"
echo "|---|---|---|---|"
echo "| \`up -d\`: runtime process started to ready:true (ms) | $(stats "${ready[@]}") |"
echo "| \`up -d\` wall clock incl. CLI JVM (ms) | $(stats "${wall[@]}") |"
echo "| runtime CPU time to ready (ms) | $(stats "${cpu[@]}") |"
echo "| heap in use after start, after GC (MB) | $(stats "${heap[@]}") |"
echo
echo "First start in a new home (no class-data archive yet; written when it stops): ${first} ms wall."

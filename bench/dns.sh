#!/usr/bin/env bash
# Slipway's DNS server against dnsmasq, side by side in the same run, with dnsperf.
#   built-in: host/gateway.docker.internal (Slipway's built-in names; dnsmasq from a hosts file)
#   cached:   100 forwarded names answered from the cache (both forward to the same origin dnsmasq)
# Usage: bench/dns.sh [runs] [seconds] [clients]      (needs java, dnsperf, dnsmasq-base)
#   swap:     built-in names while Slipway's answering logic is replaced every 200 ms (queries lost must be 0)
# Env: SKIP_BUILD=1 to reuse the built classes; BASE_PORT (default 15370) for the five loopback ports.
# Prints a Markdown table: qps min/median/max, lost queries, latency p50/p99 at a fixed load, ratios.
set -euo pipefail
RUNS=${1:-5}; DUR=${2:-8}; CLIENTS=${3:-4}
BASE=${BASE_PORT:-15370}
SLW=$BASE; HOSTS=$((BASE + 1)); ORIGIN=$((BASE + 2)); CACHE=$((BASE + 3)); SWAP=$((BASE + 4))
LAT_QPS=${LAT_QPS:-20000}; LAT_SECONDS=${LAT_SECONDS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
for t in java dnsperf dnsmasq; do
  command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "bench/dns.sh: missing $t (apt-get install -y dnsperf dnsmasq-base)" >&2; exit 2; }
done
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)

work=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; exec 9>&- 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

cd "$root"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  ./mvnw -B -q -o install -pl dns -am -DskipTests >&2
fi
./mvnw -B -q -o dependency:build-classpath -pl dns -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test >&2
CP="bundles/shared/api/target/classes:dns/target/classes:dns/target/test-classes:$(cat "$work/cp.txt")"

# peers: dnsmasq serving the built-in names from a hosts file (as ../shared/bench/dns-peers.sh does);
# an origin dnsmasq with the forwarded names; dnsmasq with its cache in front of the origin
printf '192.168.65.254 host.docker.internal\n192.168.65.1 gateway.docker.internal\n' > "$work/hosts"
common=(--keep-in-foreground --conf-file=/dev/null --listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts --pid-file= --log-facility=/dev/null)
"$DNSMASQ" "${common[@]}" --port="$HOSTS" --addn-hosts="$work/hosts" --cache-size=1000 & pids+=($!)
origin=(--port="$ORIGIN" --local=/bench.test/ --local-ttl=3600)
for i in $(seq 1 100); do origin+=(--host-record="n$i.bench.test,10.77.$((i / 256)).$((i % 256))"); done
"$DNSMASQ" "${common[@]}" "${origin[@]}" & pids+=($!)
"$DNSMASQ" "${common[@]}" --port="$CACHE" --server="127.0.0.1#$ORIGIN" --cache-size=10000 & pids+=($!)

# Slipway: the answering logic and the host listener as the runtime wires them, forwarding to the origin
mkfifo "$work/in"
java -XX:+UseParallelGC -Xms256m -Xmx256m -cp "$CP" dev.slipway.dns.server.BenchServer "127.0.0.1:$SLW" "127.0.0.1:$ORIGIN" \
  < "$work/in" > "$work/slipway.out" 2> "$work/slipway.err" & pids+=($!)
exec 9> "$work/in"
for i in $(seq 1 100); do grep -q listening "$work/slipway.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/slipway.out" || { echo "Slipway did not start:" >&2; cat "$work/slipway.err" >&2; exit 1; }

for i in $(seq 1 2000); do printf 'host.docker.internal A\ngateway.docker.internal A\n'; done > "$work/builtin.txt"
for r in $(seq 1 40); do for i in $(seq 1 100); do printf 'n%d.bench.test A\n' "$i"; done; done > "$work/cached.txt"

perf() { # port file seconds [extra...] -> "qps lost avg_ms"
  local port=$1 file=$2 secs=$3; shift 3
  dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$secs" -c "$CLIENTS" -Q 1000000 "$@" 2>&1 |
    awk '/Queries per second/{q=$4} /Queries lost/{l=$3} /Average Latency/{a=$4*1000} END{printf "%.0f %s %.3f\n", q, l, a}'
}
latency() { # port file -> "p50_ms p99_ms" at LAT_QPS queries per second
  dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$LAT_SECONDS" -c "$CLIENTS" -Q "$LAT_QPS" -v 2>/dev/null |
    awk '/^> /{print $NF*1000}' | sort -n | awk '{v[NR]=$1} END{if(NR==0){print "- -"; exit} i50=int(NR*0.50); i99=int(NR*0.99); if(i50<1)i50=1; if(i99<1)i99=1; printf "%.3f %.3f\n", v[i50], v[i99]}'
}

echo "warming up (caches filled, JIT compiled)..." >&2
for port in $SLW $CACHE; do dnsperf -s 127.0.0.1 -p "$port" -d "$work/cached.txt" -n 1 -c 1 >/dev/null 2>&1; done
perf $SLW "$work/builtin.txt" 3 >/dev/null; perf $SLW "$work/cached.txt" 3 >/dev/null

declare -A qps lost last pairs
for run in $(seq 1 "$RUNS"); do
  for scenario in builtin cached; do
    if [ "$scenario" = builtin ]; then peer=$HOSTS; else peer=$CACHE; fi
    # alternate who goes first, so that neither always gets the quieter half of the machine
    if [ $((run % 2)) = 1 ]; then order="slipway dnsmasq"; else order="dnsmasq slipway"; fi
    for who in $order; do
      if [ "$who" = slipway ]; then port=$SLW; else port=$peer; fi
      read -r q l a < <(perf "$port" "$work/$scenario.txt" "$DUR")
      qps[$scenario.$who]="${qps[$scenario.$who]:-} $q"
      last[$who]=$q
      lost[$scenario.$who]=$(( ${lost[$scenario.$who]:-0} + l ))
      echo "run $run $scenario $who: $q qps, $l lost, avg ${a} ms" >&2
    done
    # the two halves of a run share the machine's load best: their ratio is the steadiest figure
    pairs[$scenario]="${pairs[$scenario]:-} $(awk -v a="${last[slipway]}" -v b="${last[dnsmasq]}" 'BEGIN{printf "%.3f", (b > 0 ? a / b : 0)}')"
  done
done

stats() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{v[NR]=$1} END{printf "%d %d %d\n", v[1], v[int((NR+1)/2)], v[NR]}'; }
echo
echo "dnsperf, $CLIENTS clients, $RUNS runs of ${DUR}s each, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
echo
echo "| names | server | qps min | qps median | qps max | lost | p50 ms | p99 ms | ratio of medians | median of per-run ratios |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for scenario in builtin cached; do
  if [ "$scenario" = builtin ]; then peer=$HOSTS; label="built-in"; peerlabel="dnsmasq (hosts file)";
  else peer=$CACHE; label="forwarded, cached"; peerlabel="dnsmasq (cache)"; fi
  read -r smin smed smax < <(echo "${qps[$scenario.slipway]}" | stats)
  read -r dmin dmed dmax < <(echo "${qps[$scenario.dnsmasq]}" | stats)
  read -r sp50 sp99 < <(latency $SLW "$work/$scenario.txt")
  read -r dp50 dp99 < <(latency "$peer" "$work/$scenario.txt")
  ratio=$(awk -v a="$smed" -v b="$dmed" 'BEGIN{printf "%.2f", (b > 0 ? a / b : 0)}')
  paired=$(echo "${pairs[$scenario]}" | tr ' ' '\n' | grep -v '^$' | sort -n | awk '{v[NR]=$1} END{printf "%.2f", v[int((NR+1)/2)]}')
  echo "| $label | Slipway | $smin | $smed | $smax | ${lost[$scenario.slipway]} | $sp50 | $sp99 | ${ratio}x | ${paired}x |"
  echo "| $label | $peerlabel | $dmin | $dmed | $dmax | ${lost[$scenario.dnsmasq]} | $dp50 | $dp99 | 1.00x | 1.00x |"
done
echo
echo "p50/p99: per-query latency at a fixed $LAT_QPS queries/s (dnsperf -v), not at saturation."

# hot swap: a second Slipway whose answering logic is replaced every 200 ms while dnsperf runs
mkfifo "$work/swapin"
java -XX:+UseParallelGC -Xms256m -Xmx256m -cp "$CP" dev.slipway.dns.server.BenchServer "127.0.0.1:$SWAP" "" 2 200 \
  < "$work/swapin" > "$work/swap.out" 2> "$work/swap.err" & swapper=$!; pids+=($swapper)
exec 8> "$work/swapin"
for i in $(seq 1 100); do grep -q listening "$work/swap.out" 2>/dev/null && break; sleep 0.1; done
read -r q l a < <(perf "$SWAP" "$work/builtin.txt" "$DUR")
exec 8>&-
for i in $(seq 1 50); do kill -0 "$swapper" 2>/dev/null || break; sleep 0.1; done
swaps=$(awk '/logic replaced/{print $3}' "$work/swap.err")
echo "Hot swap: answering logic replaced ${swaps:-?} times during ${DUR}s of dnsperf on built-in names: $q qps, $l queries lost."

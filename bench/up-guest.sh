#!/usr/bin/env bash
# up -d followed at once by a request from the guest namespace, N times in a row (default 100): the
# guest must answer every time, since up -d returns only once the namespace has its address.
# Usage: bench/up-guest.sh [runs]      (root; iproute2, busybox, python3)
# Raw output: bench/results/up-guest-DATE.txt
set -euo pipefail
runs=${1:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "up-guest: needs root (the guest namespace)" >&2; exit 2; }
for t in ip busybox python3 curl; do
  command -v "$t" >/dev/null || { echo "up-guest: missing $t (apt-get install -y iproute2 busybox-static python3 curl)" >&2; exit 2; }
done
work=$(mktemp -d)
export SLIPWAY_HOME="$work/home"
netns="slw-upg-$$"
out="$root/bench/results/up-guest-$(date -u +%Y-%m-%d).txt"
mkdir -p "$root/bench/results" "$work/www"
echo "from the host" > "$work/www/index.html"
python3 -m http.server --bind 127.0.0.1 0 --directory "$work/www" > "$work/http.log" 2>&1 & server=$!
cleanup() { kill "$server" 2>/dev/null || true; "$root/slipway" down >/dev/null 2>&1 || true; ip netns del "$netns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 50); do port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -n 1); [ -n "$port" ] && break; sleep 0.1; done
[ -n "$port" ] || { echo "up-guest: the host server did not start" >&2; exit 1; }
echo "# bench/up-guest.sh $runs on $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out"
ok=0; failed=0
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  "$root/slipway" up -d --netns "$netns" > "$work/up.txt" 2>&1 || { cat "$work/up.txt"; exit 1; }
  up_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if body=$(ip netns exec "$netns" curl -sS --max-time 5 "http://192.168.65.254:$port/" 2>&1) && [ "$body" = "from the host" ]; then
    ok=$((ok + 1)); result=ok
  else
    failed=$((failed + 1)); result="FAILED: $body"
  fi
  printf '%s\tup_ms=%s\t%s\n' "$i" "$up_ms" "$result" | tee -a "$out"
  "$root/slipway" down > /dev/null
done
echo "up -d then a guest request at once: $ok of $runs succeeded, $failed failed" | tee -a "$out"
[ "$failed" = 0 ]

#!/usr/bin/env bash
# Live update under load: N updates in a row of networking, dns and (the baseline) platform-linux in
# a running runtime on its embedded guest namespace (root). During each update: DNS queries at
# 1,000/s to the gateway (from the guest) and to a --dns-listen address (from the host), one UDP
# flow guest->host at 100 datagrams/s, and one TCP connection guest->host echoing 16 KiB every 10 ms.
# Reports per bundle: the pause (longest gap between answers, echoes or echoed bytes, ms)
# min/p50/p99/max, queries lost, whether the TCP stream got every byte back, the guest's own drops
# (full socket buffers, tap), and descriptors/threads of the runtime before and after.
# No peer (vpnkit, gvisor-tap-vsock, slirp4netns, passt) can be updated live: they restart, and every
# guest connection and in-flight query goes with them.
# usage: bench/update.sh [N [BUNDLE,...]]   (raw output: bench/results/update-DATE.txt)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-20}"
[ "$(id -u)" = 0 ] || { echo "bench/update.sh needs root (the embedded guest namespace)"; exit 2; }
[ -f "$root/runtime/target/slipway/.built" ] || (cd "$root" && ./mvnw -q -B -pl runtime -am package -DskipTests)
mkdir -p "$root/bench/results"
out="$root/bench/results/update-$(date -u +%Y-%m-%dT%H%M).txt"
python3 "$root/bench/update_bench.py" "$root" "$n" "${2:-}" 2>&1 | tee "$out"
echo "raw output: $out"

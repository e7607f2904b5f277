#!/usr/bin/env bash
# Throughput through the real runtime (./slipway up -d as root: the embedded `slipway` namespace on
# the tap transport) under different runtime JVM options, interleaved so each gets the same noise.
# Usage: bench/runtime-net.sh ROUNDS "JVM options A" "JVM options B" ...   (root; iperf3, iproute2)
# Prints iperf3 guest->host and host->guest Gbit/s per round and option set.
set -uo pipefail
R=$1; shift
root="$(cd "$(dirname "$0")/.." && pwd)"; export SLIPWAY_HOME=$(mktemp -d)
[ "$(id -u)" = 0 ] || { echo "bench/runtime-net.sh: needs root (the runtime's guest namespace)" >&2; exit 2; }
iperf3 -s -B 127.0.0.1 -p 15299 -D >/dev/null 2>&1; sleep 0.3
for i in $(seq 1 $R); do
  for o in "$@"; do
    SLIPWAY_JAVA_OPTS="$o" "$root/slipway" up -d >/dev/null
    for j in $(seq 1 100); do ip netns exec slipway ip -4 addr show slw0 2>/dev/null | grep -q inet && break; sleep 0.1; done
    g2h=$(ip netns exec slipway iperf3 -c 192.168.65.254 -p 15299 -t 4 -J 2>/dev/null | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')
    h2g=$(ip netns exec slipway iperf3 -c 192.168.65.254 -p 15299 -t 4 -R -J 2>/dev/null | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')
    echo "g2h $g2h h2g $h2g : $o"
    "$root/slipway" down >/dev/null
  done
done
pkill -f "iperf3 -s -B 127.0.0.1 -p 15299"
rm -rf $SLIPWAY_HOME

#!/usr/bin/env bash
# Proxy benchmark: a large download through tinyproxy, from a guest namespace through Slipway's
# stack and transparent proxy (HTTP re-sent with OkHttp; HTTPS as CONNECT name:443 and spliced),
# against curl on the host through the same tinyproxy, alternating in the same run. Prints
# min/median/max MB/s per path and the guest/host ratio of the medians.
# Usage: bench/proxy.sh [runs=5] [megabytes=256]   (root; iproute2 busybox-static curl tinyproxy openssl)
# Env: OUT (also write the table there)
set -euo pipefail
RUNS=${1:-5}; MB=${2:-256}
cd "$(dirname "$0")/.."
for t in ip busybox curl tinyproxy openssl java; do
  command -v "$t" >/dev/null || { echo "bench/proxy.sh: missing $t (apt-get install -y iproute2 busybox-static curl tinyproxy openssl)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "bench/proxy.sh: needs root (network namespaces, tap devices)" >&2; exit 2; }

./mvnw -B -q -o install -pl networking/proxy -am -DskipTests >/dev/null
./mvnw -B -q -o dependency:build-classpath -pl networking/proxy -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/slw-bench-proxy-cp.txt >/dev/null
CP="networking/proxy/target/classes:networking/proxy/target/test-classes:$(cat /tmp/slw-bench-proxy-cp.txt)"
table=$(java -XX:+UseParallelGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" dev.slipway.networking.proxy.ProxyBench "$RUNS" "$MB")
echo "$table"
[ -n "${OUT:-}" ] && echo "$table" >"$OUT"
exit 0

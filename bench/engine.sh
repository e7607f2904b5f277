#!/usr/bin/env bash
# Engine benchmark: one engine guest (guest/build-engine-image.sh) booted through the helper's VM
# manager with Slipway's stack, DNS, engine channel and automatic port publishing in one JVM, then in
# the same run: VM start to engine ready; `docker run --rm IMAGE true` through Slipway's docker.sock
# against the guest's own CLI on the engine's socket; 64 MiB downloads through the port Slipway
# published against docker-proxy carrying the same download inside the guest.
# Usage: bench/engine.sh [RUNS] [MTU]   (default 5 runs and the stack's MTU, 1500; as root, as the
# helper runs; one guest boot. MTU sets the link's MTU, which the guest's lease applies to eth0 and
# the engine's bridge.)
# Needs: apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static docker.io iptables gcc libc6-dev cpio kmod
# Builds only networking/ports and what it needs, into target/ (installs nothing into the local repository).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
MTU="${2:-}"
command -v qemu-system-x86_64 >/dev/null || { echo "engine.sh: missing qemu-system-x86_64 (apt-get install -y qemu-system-x86)" >&2; exit 2; }
command -v docker >/dev/null || { echo "engine.sh: missing the docker CLI (apt-get install -y docker.io)" >&2; exit 2; }
CP_FILE="$(mktemp)"
trap 'rm -f "$CP_FILE"' EXIT
./mvnw -B -q -o -pl networking/ports -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE"
CP="$PWD/networking/ports/target/test-classes:$PWD/networking/ports/target/classes:$(cat "$CP_FILE")"
mkdir -p bench/results
OUT="bench/results/engine-$(date -u +%Y-%m-%dT%H%M)${MTU:+-mtu$MTU}.txt"
LOG="$PWD/bench/results/engine-$(date -u +%Y-%m-%dT%H%M)${MTU:+-mtu$MTU}.log"   # the runtime's log, for when a run fails
{
  echo "# Slipway engine benchmark ($(date -u +%Y-%m-%dT%H:%MZ), link MTU ${MTU:-1500}, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(qemu-system-x86_64 --version | head -1))"
  cd networking/ports
  java ${MTU:+-Dslipway.engine.mtu=$MTU} --add-exports java.base/sun.nio.ch=ALL-UNNAMED -cp "$CP" dev.slipway.networking.ports.EngineBench "$RUNS" 2>"$LOG"
} | tee "$OUT"

#!/usr/bin/env bash
# VM benchmark: a tiny Debian-kernel + busybox guest booted under QEMU through Slipway's VM manager,
# its only network Slipway's QEMU stream transport, next to the same guest on QEMU's own user-mode
# network (libslirp) in the same run. Measures the time from the start call to the guest's DHCP
# lease, and iperf3 from the guest to an iperf3 server on the host's 127.0.0.1.
# Usage: bench/vm.sh [RUNS] [SECONDS]   (default 3 runs, 5 s of iperf3 each)
# Needs: apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static iperf3
# Runs entirely on this machine: the guests reach only the host's loopback through their networks.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
SECS="${2:-5}"
for t in qemu-system-x86_64 iperf3 ldd; do
  command -v "$t" >/dev/null || { echo "vm.sh: missing $t (apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static iperf3)" >&2; exit 2; }
done
CP_FILE="$(mktemp)"
trap 'rm -f "$CP_FILE"' EXIT
# one reactor run: the sibling modules resolve to their target/classes (nothing is installed)
./mvnw -B -q -o -pl helper/vm -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE"
CP="$PWD/helper/vm/target/test-classes:$PWD/helper/vm/target/classes:$(cat "$CP_FILE")"
echo "# Slipway VM benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(qemu-system-x86_64 --version | head -1), accel $( [ -w /dev/kvm ] && echo kvm || echo tcg ))"
cd helper/vm
# the guests' files live under the module's target directory (a chain the VM manager trusts)
java --add-exports java.base/sun.nio.ch=ALL-UNNAMED -cp "$CP" dev.slipway.helper.vm.VmBench "$RUNS" "$SECS"

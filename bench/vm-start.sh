#!/usr/bin/env bash
# VM start benchmark: `vm start` to the guest's DHCP lease (Slipway's lease table) for a tiny
# Debian-kernel + busybox guest, with QEMU started the current way (the VM manager: descriptors opened
# by the helper, posix_spawn, setpriv to an unprivileged account, QEMU's seccomp sandbox, its network
# card listening and attached by the runtime through vm.attach-network) and the old
# way (QEMU as root, opening disk, console and socket by name), alternating in the same run.
# Usage: bench/vm-start.sh [ROUNDS]   (default 5; run as root, as the helper runs)
# Needs: apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static
# Builds only helper/vm and what it needs, into target/ (installs nothing into the local repository).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
for t in qemu-system-x86_64 setpriv; do
  command -v "$t" >/dev/null || { echo "vm-start.sh: missing $t (apt-get install -y qemu-system-x86 util-linux)" >&2; exit 2; }
done
CP_FILE="$(mktemp)"
trap 'rm -f "$CP_FILE"' EXIT
# one reactor run: the sibling modules resolve to their target/classes
./mvnw -B -q -o -pl helper/vm -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$CP_FILE"
CP="$PWD/helper/vm/target/test-classes:$PWD/helper/vm/target/classes:$(cat "$CP_FILE")"
echo "# Slipway VM start benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(qemu-system-x86_64 --version | head -1), accel $( [ -w /dev/kvm ] && echo kvm || echo tcg ))"
cd helper/vm
# the guests' files live under the module's target directory (a chain the VM manager trusts)
java --add-exports java.base/sun.nio.ch=ALL-UNNAMED -cp "$CP" dev.slipway.helper.vm.VmStartBench "$ROUNDS"

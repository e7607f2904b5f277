#!/usr/bin/env bash
# The Debian package's size, and start to ready from the package (its jlink Java runtime and the
# class-data archives postinst made) against the source tree (./slipway on the system JDK), same run,
# alternating which goes first. Each variant has its own Slipway home and one start before the measured
# ones (the runtime writes its dynamic class-data archive when the first start stops). --netns none:
# the JVM's and the bundles' start, not the guest namespace's DHCP.
# Usage: bench/package-start.sh [runs]      (root; the package built by ./mvnw package)
# Raw output: bench/results/package-start-DATE.txt
set -euo pipefail
runs=${1:-7}
root=$(cd "$(dirname "$0")/.." && pwd)
deb=$(ls "$root"/packaging/debian/target/slipway_*.deb 2>/dev/null | head -n 1 || true)
[ "$(id -u)" = 0 ] || { echo "package-start: needs root (dpkg -i)" >&2; exit 2; }
[ -n "$deb" ] || { echo "package-start: no package; build it: ./mvnw -pl packaging/debian -am package -DskipTests" >&2; exit 2; }
work=$(mktemp -d)
out="$root/bench/results/package-start-$(date -u +%Y-%m-%d).txt"
mkdir -p "$root/bench/results"
installed_here=false
if ! dpkg -s slipway >/dev/null 2>&1; then
  dpkg -i "$deb" > "$work/dpkg.txt" 2>&1 || { cat "$work/dpkg.txt"; exit 1; }
  installed_here=true
fi
cleanup() {
  SLIPWAY_HOME="$work/package" /usr/bin/slipway down >/dev/null 2>&1 || true
  SLIPWAY_HOME="$work/source" "$root/slipway" down >/dev/null 2>&1 || true
  if $installed_here; then dpkg -P slipway >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

run() { # variant -> "ready_ms wall_ms"
  local cli home start line
  case $1 in package) cli=/usr/bin/slipway ;; source) cli="$root/slipway" ;; esac
  home="$work/$1"
  start=$(date +%s%N)
  line=$(SLIPWAY_HOME="$home" "$cli" up -d --netns none 2>&1 | grep "Slipway is up")
  local wall=$(( ($(date +%s%N) - start) / 1000000 ))
  SLIPWAY_HOME="$home" "$cli" down > /dev/null
  echo "$(echo "$line" | sed -n 's/.*ready in \([0-9]*\) ms.*/\1/p') $wall"
}

{
  echo "# bench/package-start.sh $runs on $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# package $(basename "$deb"): $(du -k "$deb" | cut -f1) KiB, installed $(dpkg-deb -f "$deb" Installed-Size) KiB"
  echo "# package Java: $(/usr/lib/slipway/java/bin/java -version 2>&1 | head -n 1); source tree Java: $(java -version 2>&1 | head -n 1)"
} | tee "$out"
run package > /dev/null
run source > /dev/null
printf 'run\tvariant\tready_ms\twall_ms\n' | tee -a "$out"
declare -A ready wall
for i in $(seq "$runs"); do
  if [ $((i % 2)) = 1 ]; then order="package source"; else order="source package"; fi
  for v in $order; do
    read -r r w <<<"$(run "$v")"
    ready[$v]="${ready[$v]:-} $r"; wall[$v]="${wall[$v]:-} $w"
    printf '%s\t%s\t%s\t%s\n' "$i" "$v" "$r" "$w" | tee -a "$out"
  done
done
stats() { echo $1 | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[1] " / " a[int((NR+1)/2)] " / " a[NR]}'; }
median() { echo $1 | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo | tee -a "$out"
echo "| start to ready ($runs runs, min / median / max) | runtime process start to ready (ms) | up -d wall clock incl. CLI (ms) |" | tee -a "$out"
echo "|---|---|---|" | tee -a "$out"
for v in package source; do
  echo "| $v | $(stats "${ready[$v]}") | $(stats "${wall[$v]}") |" | tee -a "$out"
done
echo "| package / source (medians) | $(awk -v a="$(median "${ready[package]}")" -v b="$(median "${ready[source]}")" 'BEGIN {printf "%.2fx", a / b}') | $(awk -v a="$(median "${wall[package]}")" -v b="$(median "${wall[source]}")" 'BEGIN {printf "%.2fx", a / b}') |" | tee -a "$out"

#!/usr/bin/env bash
# Idle CPU per 60 s, same run: Slipway's runtime with its embedded guest namespace attached, slirp4netns
# and pasta each with a network namespace attached; nobody sends anything. All three idle side by side
# in each round; the CPU is utime+stime of each process from /proc/PID/stat over the window.
# Usage: bench/idle-cpu.sh [rounds] [seconds]      (root; iproute2, busybox, slirp4netns, passt)
# Raw output: bench/results/idle-cpu-DATE[-$IDLE_TAG].txt, with the runtime's threads that ran in each window
set -euo pipefail
rounds=${1:-3}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "idle-cpu: needs root (the guest namespace; pasta then runs as nobody)" >&2; exit 2; }
for t in ip busybox slirp4netns pasta unshare setpriv; do
  command -v "$t" >/dev/null || { echo "idle-cpu: missing $t (apt-get install -y iproute2 busybox-static slirp4netns passt util-linux)" >&2; exit 2; }
done
hz=$(getconf CLK_TCK)
work=$(mktemp -d)
chmod 0755 "$work"
export SLIPWAY_HOME="$work/home"
netns="slw-idle-$$"
out="$root/bench/results/idle-cpu-$(date -u +%Y-%m-%d)${IDLE_TAG:+-$IDLE_TAG}.txt"
mkdir -p "$root/bench/results"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$root/slipway" down >/dev/null 2>&1 || true
  ip netns del "$netns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# per thread of the runtime: "tid name ns-on-cpu wake-ups" from /proc/PID/task/*/schedstat (ns resolution)
thread_sample() {
  for t in /proc/"$1"/task/*; do
    [ -r "$t/schedstat" ] || continue
    printf '%s\t%s\t%s\n' "${t##*/}" "$(tr ' ' '_' < "$t/comm")" "$(cat "$t/schedstat" 2>/dev/null)"
  done
}
# threads that ran in the window: ms on CPU and times scheduled, busiest first
thread_delta() {
  awk -F'\t' 'NR == FNR { split($3, a, " "); ns[$1] = a[1]; runs[$1] = a[3]; next }
       { split($3, b, " "); d = b[1] - ns[$1]; r = b[3] - runs[$1]; if (r > 0) printf "#   %-28s %8.1f ms %6d runs\n", $2, d / 1e6, r }' "$1" "$2" | sort -k3 -rn
}

{
  echo "# bench/idle-cpu.sh $rounds $seconds on $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# stack loop: $(git -C "$root" log --oneline -1 --grep='^Stack core reshaped:' | cut -c1-60 || true)"
} | tee "$out"

"$root/slipway" up -d --netns "$netns" | tee -a "$out"
slipway_pid=$(cat "$work/home/run/slipway.pid")
"$root/slipway" status --json | grep -A4 '"guest"' | grep -q '"ready": true' || { echo "idle-cpu: the guest namespace is not ready" >&2; exit 1; }

unshare --net sleep infinity & ns_pid=$!; pids+=("$ns_pid")
sleep 0.3
slirp4netns --configure --mtu=1500 "$ns_pid" tap0 > "$work/slirp.log" 2>&1 & slirp_pid=$!; pids+=("$slirp_pid")
mkdir -p "$work/pasta" && chown 65534:65534 "$work/pasta"   # pasta runs as nobody and writes its pid file there
setpriv --reuid=65534 --regid=65534 --clear-groups pasta --config-net -q -f -P "$work/pasta/pid" -- sleep infinity \
  > "$work/pasta/log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -s "$work/pasta/pid" ] && break; sleep 0.1; done
[ -s "$work/pasta/pid" ] || { cat "$work/pasta/log" >&2; echo "idle-cpu: pasta did not start" >&2; exit 1; }
pasta_pid=$(cat "$work/pasta/pid")
# let every process finish starting before the first window: the runtime's JIT compiles for tens of
# seconds after ready on a loaded 2-core machine (after 45 s the C1 compiler still took 35 ms of a
# first window), slirp4netns answers its namespace's DHCP
sleep "${SETTLE_SECONDS:-90}"

printf 'round\tpeer\tcpu_ms_per_%ss\n' "$seconds" | tee -a "$out"
declare -A samples
for r in $(seq "$rounds"); do
  declare -A before
  for peer in slipway slirp4netns pasta; do
    case $peer in slipway) pid=$slipway_pid ;; slirp4netns) pid=$slirp_pid ;; pasta) pid=$pasta_pid ;; esac
    before[$peer]=$(cpu_ticks "$pid")
  done
  thread_sample "$slipway_pid" > "$work/threads.before"
  sleep "$seconds"
  thread_sample "$slipway_pid" > "$work/threads.after"
  for peer in slipway slirp4netns pasta; do
    case $peer in slipway) pid=$slipway_pid ;; slirp4netns) pid=$slirp_pid ;; pasta) pid=$pasta_pid ;; esac
    ms=$(( ( $(cpu_ticks "$pid") - ${before[$peer]} ) * 1000 / hz ))
    samples[$peer]="${samples[$peer]:-} $ms"
    printf '%s\t%s\t%s\n' "$r" "$peer" "$ms" | tee -a "$out"
  done
  echo "# round $r, the runtime's threads that ran (schedstat):" | tee -a "$out"
  thread_delta "$work/threads.before" "$work/threads.after" | tee -a "$out"
done

echo | tee -a "$out"
echo "| idle, namespace attached, no traffic | CPU ms per ${seconds} s: min | median | max | % of one core (median) |" | tee -a "$out"
echo "|---|---:|---:|---:|---:|" | tee -a "$out"
for peer in slipway slirp4netns pasta; do
  read -r mn md mx <<<"$(echo ${samples[$peer]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)], a[NR]}')"
  pct=$(awk -v m="$md" -v s="$seconds" 'BEGIN {printf "%.3f", m / (s * 10)}')
  echo "| $peer | $mn | $md | $mx | $pct % |" | tee -a "$out"
done
echo "(CPU time from /proc/PID/stat in ticks of 1/$hz s: 10 ms resolution; raw lines above)" | tee -a "$out"

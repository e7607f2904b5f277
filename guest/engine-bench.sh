# Run inside the engine guest by its init (slipway.script=bench): the same commands as
# bench/engine.sh runs from the host, here against the engine's own socket and docker-proxy.
runs=$(sed -n 's/.*slipway.runs=\([0-9]*\).*/\1/p' /proc/cmdline); runs=${runs:-5}
echo SLIPWAY-BENCH-START
i=0
while [ $i -lt "$runs" ]; do
  s=$(date +%s%N); docker run --rm slipway/busybox true; e=$(date +%s%N)
  echo "SLIPWAY-BENCH run-true-ms $(( (e - s) / 1000000 ))"
  i=$((i + 1))
done
echo SLIPWAY-BENCH-DONE

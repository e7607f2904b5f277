# Run inside the engine guest by its init (slipway.script=bench): the guest's half of bench/engine.sh,
# against the engine's own socket and docker-proxy, printed on the console for the host to read.
#   slipway.runs=N    docker runs and downloads (default 5)
#   slipway.port=P    the web container's published port (default 18090)
#   slipway.port2=P   the port of a web server on the guest's own network (--network host), which the
#                     host publishes by hand: Slipway's connection into the guest without NAT
#   slipway.sink=P    a port on the host's loopback (Slipway's host alias 192.168.65.254) that times
#                     64 MiB the container sends: the same link the other way, the guest opening
arg() { sed -n "s/.*slipway.$1=\([0-9]*\).*/\1/p" /proc/cmdline; }
runs=$(arg runs); runs=${runs:-5}
port=$(arg port); port=${port:-18090}
port2=$(arg port2)
sink=$(arg sink)
now() { cut -d' ' -f1 /proc/uptime; }
ms() { awk -v s="$1" -v e="$2" 'BEGIN { printf "%d", (e - s) * 1000 }'; }
echo SLIPWAY-BENCH-START
i=0
while [ $i -lt "$runs" ]; do
  s=$(now); docker run --rm slipway/busybox true; e=$(now)
  echo "SLIPWAY-BENCH run-true-ms $(ms "$s" "$e")"
  i=$((i + 1))
done
# the web container both sides download from: 64 MiB through docker-proxy here, through Slipway on the host
docker run -d --name bench-web -p "$port:80" slipway/busybox sh -c \
  'dd if=/dev/zero of=/var/www/big bs=1048576 count=64 2>/dev/null && httpd -f -p 80 -h /var/www' >/dev/null
j=0
# busybox-static's wget crashes with -q or -T: its progress goes to stderr instead
while [ $j -lt 100 ] && ! wget -O /dev/null "http://127.0.0.1:$port/index.html" 2>/dev/null; do sleep 0.2; j=$((j + 1)); done
i=0
while [ $i -lt "$runs" ]; do
  s=$(now); wget -O /dev/null "http://127.0.0.1:$port/big" 2>/dev/null; e=$(now)
  echo "SLIPWAY-BENCH docker-proxy-ms $(ms "$s" "$e")"
  i=$((i + 1))
done
# the same download straight from the container's address on the engine's bridge (the bridge's MTU, no
# docker-proxy, no NAT): the guest's own cost of a download in 1500-byte packets
web=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' bench-web)
i=0
while [ $i -lt "$runs" ]; do
  s=$(now); wget -O /dev/null "http://$web:80/big" 2>/dev/null; e=$(now)
  echo "SLIPWAY-BENCH bridge-ms $(ms "$s" "$e")"
  i=$((i + 1))
done
if [ -n "$sink" ]; then
  i=0
  while [ $i -lt "$runs" ]; do
    docker exec bench-web sh -c "nc 192.168.65.254 $sink < /var/www/big"
    i=$((i + 1))
  done
fi
if [ -n "$port2" ]; then
  docker run -d --name bench-hostweb --network host slipway/busybox sh -c \
    "dd if=/dev/zero of=/var/www/big bs=1048576 count=64 2>/dev/null && httpd -f -p $port2 -h /var/www" >/dev/null
  j=0
  while [ $j -lt 100 ] && ! wget -O /dev/null "http://127.0.0.1:$port2/index.html" 2>/dev/null; do sleep 0.2; j=$((j + 1)); done
fi
echo SLIPWAY-BENCH-DONE

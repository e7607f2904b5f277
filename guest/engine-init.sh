#!/bin/busybox sh
# /init of Slipway's engine guest: the network from Slipway's stack (DHCP), the engine on a Unix
# socket only, and the relay that carries that socket to the host over the virtio-serial port
# named dev.slipway.engine. Console lines starting with SLIPWAY- mark the steps.
/bin/busybox --install -s /bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mkdir -p /proc /sys /dev /tmp /run /var/log /var/lib/docker /etc
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=0755 run /run
ln -sf /run /var/run
for m in $(cat /etc/modules.order); do insmod /lib/modules/$m 2>/dev/null; done
hostname slipway
ip link set lo up
ip link set eth0 up
echo SLIPWAY-BOOTED $(cut -d' ' -f1 /proc/uptime)
udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/udhcpc.script 2>&1 | grep -v '^udhcpc: \(started\|broadcasting\|sending\)'
# forwarding on before dockerd starts: the engine then leaves the FORWARD policy as it is, and the
# host's connections to a container's own address (ports bound to one address, -p 127.0.0.1:P:80)
# are forwarded from eth0 over the bridge
echo 1 > /proc/sys/net/ipv4/ip_forward

engine_port=
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = dev.slipway.engine ] && engine_port=/dev/${p##*/}
done
[ -n "$engine_port" ] || echo "SLIPWAY-ENGINE-ERROR no virtio-serial port named dev.slipway.engine"

# the root is an initramfs, where pivot_root fails: DOCKER_RAMDISK makes runc use MS_MOVE instead
export DOCKER_RAMDISK=true
start_engine() {
  rm -f /var/run/docker.sock
  mtu=$(cat /run/slipway-mtu 2>/dev/null)
  dockerd --host unix:///var/run/docker.sock --storage-driver vfs --data-root /var/lib/docker \
    --iptables=true --userland-proxy=true ${mtu:+--mtu "$mtu"} >>/var/log/dockerd.log 2>&1 &
  echo $! > /run/dockerd.pid
  i=0
  while [ $i -lt 1200 ] && ! docker version >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
}
start_engine
if ! docker version >/dev/null 2>&1; then
  echo SLIPWAY-ENGINE-ERROR the engine did not answer; tail -n 20 /var/log/dockerd.log
fi
docker import /usr/share/slipway/busybox-rootfs.tar slipway/busybox:latest >/dev/null \
  || echo SLIPWAY-ENGINE-ERROR cannot import the busybox root filesystem
[ -n "$engine_port" ] && (while true; do slipway-engine-relay "$engine_port" /var/run/docker.sock; sleep 0.2; done) &
echo SLIPWAY-ENGINE-READY $(cut -d' ' -f1 /proc/uptime)

# an optional script on the kernel command line (slipway.script=NAME of /usr/share/slipway/NAME.sh)
for word in $(cat /proc/cmdline); do
  case "$word" in
    slipway.script=*) sh "/usr/share/slipway/${word#slipway.script=}.sh" 2>&1 ;;
  esac
done
# the engine comes back when it dies (a crash, or a restart asked for by killing it)
while true; do
  if ! kill -0 "$(cat /run/dockerd.pid)" 2>/dev/null; then
    echo SLIPWAY-ENGINE-RESTART $(cut -d' ' -f1 /proc/uptime)
    start_engine
    echo SLIPWAY-ENGINE-READY $(cut -d' ' -f1 /proc/uptime)
  fi
  sleep 1
done

#!/usr/bin/env bash
# Builds Slipway's engine guest from this machine's Debian packages: linux-image-amd64's kernel and
# the modules the engine needs, docker.io's dockerd, containerd, shim, runc, docker-proxy and CLI,
# iptables (legacy), busybox-static for the init, the engine relay (compiled here, static) and a
# busybox root filesystem for `docker import`. Cached: the image's name is a hash of every input,
# so it is rebuilt only when one of them changes.
#
#   guest/build-engine-image.sh [--out DIR] [--kernel-version VERSION]
#
# Prints the directory holding vmlinuz and initrd.img (DIR/engine-HASH). Packages:
#   apt-get install -y docker.io iptables linux-image-amd64 busybox-static gcc libc6-dev cpio kmod
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="${XDG_CACHE_HOME:-$HOME/.cache}/slipway/engine-image"
kver=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --kernel-version) kver=$2; shift 2 ;;
    *) echo "usage: $0 [--out DIR] [--kernel-version VERSION]" >&2; exit 2 ;;
  esac
done
if [ -z "$kver" ]; then
  kver=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -n 1)
fi
kernel=/boot/vmlinuz-$kver
modules=/lib/modules/$kver
need() { command -v "$1" >/dev/null || { echo "missing $1: apt-get install -y $2" >&2; exit 1; }; }
[ -r "$kernel" ] && [ -r "$modules/modules.dep" ] || { echo "missing a kernel with modules: apt-get install -y linux-image-amd64" >&2; exit 1; }
need dockerd docker.io; need containerd docker.io; need runc docker.io; need docker-proxy docker.io
need containerd-shim-runc-v2 docker.io; need xtables-legacy-multi iptables; need gcc gcc; need cpio cpio
need modprobe kmod
[ -r /usr/lib/x86_64-linux-gnu/libc.a ] || { echo "missing a static libc: apt-get install -y libc6-dev" >&2; exit 1; }
busybox=/bin/busybox
if ldd "$busybox" >/dev/null 2>&1; then echo "$busybox is not static: apt-get install -y busybox-static" >&2; exit 1; fi
docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || { echo "missing $docker_cli: apt-get install -y docker.io" >&2; exit 1; }

# kernel modules: virtio (net, serial port), bridge and veth for the engine's network,
# netfilter for its NAT and filter rules (iptables-legacy), overlay for a later storage driver
wanted="virtio_pci virtio_net virtio_console virtio_blk veth bridge br_netfilter overlay ip_tables iptable_filter
iptable_nat xt_conntrack xt_addrtype xt_MASQUERADE xt_nat xt_tcpudp xt_comment ipt_REJECT nf_conntrack nf_nat"
module_files=$(for m in $wanted; do modprobe --show-depends -S "$kver" "$m" | awk '$1 == "insmod" {print $2}'; done | awk '!seen[$0]++')

programs="$(command -v dockerd) $(command -v containerd) $(command -v containerd-shim-runc-v2) $(command -v runc)
$(command -v docker-proxy) $(command -v xtables-legacy-multi) $docker_cli"
libraries() {
  for p in "$@"; do ldd "$p" 2>/dev/null | grep -o '/[^ ]*' || true; done | sort -u
}
xtables_dir=/usr/lib/x86_64-linux-gnu/xtables
nss_libs="/lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libresolv.so.2"
libs=$(libraries $programs $xtables_dir/*.so $nss_libs; echo "$nss_libs" | tr ' ' '\n')

inputs=$( { echo "$0"; echo "$here/engine-init.sh"; echo "$here/engine-relay.c"; echo "$here/engine-bench.sh"; echo "$kernel"; echo "$busybox";
  echo "$programs" | tr ' ' '\n'; echo "$libs"; echo "$module_files"; ls $xtables_dir/*.so; } | grep -v '^$' | sort -u)
key=$( { echo "$kver"; for f in $inputs; do echo "$f $(sha256sum < "$f" | cut -c1-64)"; done; } | sha256sum | cut -c1-16)
dest=$out/engine-$key
if [ -r "$dest/initrd.img" ] && [ -r "$dest/vmlinuz" ]; then
  echo "reusing the engine image built from the same inputs (kernel $kver)" >&2
  echo "$dest"
  exit 0
fi
echo "building the engine image from this machine's packages (kernel $kver) into $dest" >&2

mkdir -p "$out"
work=$(mktemp -d "$out/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/share/slipway,etc,lib/modules,proc,sys,dev,tmp,run,var/lib,var/log}
copy() { mkdir -p "$root$(dirname "$1")"; cp -L "$1" "$root$1"; }
echo "  copying the engine's programs, libraries and $(echo $module_files | wc -w) kernel modules" >&2
cp "$busybox" "$root/bin/busybox"
for p in $programs $libs; do copy "$p"; done
cp -L $xtables_dir/*.so "$root$xtables_dir/" 2>/dev/null || { mkdir -p "$root$xtables_dir"; cp -L $xtables_dir/*.so "$root$xtables_dir/"; }
for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf /usr/sbin/xtables-legacy-multi "$root/usr/sbin/$name"
done
: > "$root/etc/modules.order"
for m in $module_files; do
  cp "$m" "$root/lib/modules/"
  basename "$m" >> "$root/etc/modules.order"
done
echo "  compiling the engine relay" >&2
gcc -static -O2 -Wall -o "$root/usr/bin/slipway-engine-relay" "$here/engine-relay.c"
strip "$root/usr/bin/slipway-engine-relay" 2>/dev/null || true
cp "$here/engine-init.sh" "$root/init"
cp "$here/engine-bench.sh" "$root/usr/share/slipway/bench.sh"
chmod 0755 "$root/init"
cat > "$root/etc/udhcpc.script" <<'SCRIPT'
#!/bin/sh
case "$1" in
  bound|renew)
    ip addr add "$ip/$mask" dev "$interface"
    # the link's MTU from the lease, which the engine's bridge follows (dockerd --mtu in the init)
    if [ -n "$mtu" ]; then ip link set dev "$interface" mtu "$mtu" && echo "$mtu" > /run/slipway-mtu; fi
    for r in $router; do ip route add default via "$r" dev "$interface"; break; done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "SLIPWAY-LEASE ip=$ip mask=$mask router=$router dns=$dns mtu=$mtu at $(cut -d' ' -f1 /proc/uptime)"
    ;;
esac
SCRIPT
chmod 0755 "$root/etc/udhcpc.script"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"

echo "  making the containers' busybox root filesystem" >&2
# the root filesystem containers start from: busybox with its applets, and glibc's NSS modules
# for busybox's wget and nslookup (getaddrinfo loads them at run time even in a static binary)
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,root,var/www}
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
for l in $(libraries $nss_libs) $nss_libs; do mkdir -p "$rootfs$(dirname "$l")"; cp -L "$l" "$rootfs$l"; done
printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
printf 'hello from a Slipway container\n' > "$rootfs/var/www/index.html"
tar -C "$rootfs" --owner=0 --group=0 --numeric-owner -cf "$root/usr/share/slipway/busybox-rootfs.tar" .

echo "  packing the initramfs" >&2
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$work/initrd.img"
cp "$kernel" "$work/vmlinuz"
chmod 0644 "$work/initrd.img" "$work/vmlinuz"
mkdir -p "$work/out"
mv "$work/initrd.img" "$work/vmlinuz" "$work/out/"
rm -rf "$dest"
mv "$work/out" "$dest"
echo "$dest"

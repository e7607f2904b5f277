#!/usr/bin/env bash
# The Debian package as an administrator and a user meet it: lintian, dpkg -i, the installed files and
# class-data archives, slipway up -d / status / down as a user who is not root with no JDK on the PATH,
# as root the guest namespace (silent ip netns exec), then remove and purge, and nothing of it is left.
# Runs as root, on CI after the README's test command and by hand:
#   sudo packaging/debian/test-package.sh [packaging/debian/target/slipway_*.deb]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deb=${1:-$(ls "$here"/target/slipway_*.deb 2>/dev/null | head -n 1 || true)}
passed=0
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "test-package: ok: $*"; }

[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i, a user to run as)"
[ -n "$deb" ] && [ -f "$deb" ] || fail "no package: build it with ./mvnw package (packaging/debian/target/slipway_*.deb)"
deb=$(readlink -f "$deb")
for tool in dpkg lintian setpriv; do
  command -v "$tool" >/dev/null || fail "needs $tool (apt-get install lintian util-linux)"
done
if dpkg -s slipway >/dev/null 2>&1; then
  fail "a slipway package is installed already: remove it first (dpkg -P slipway)"
fi
[ ! -e /usr/lib/slipway ] || fail "/usr/lib/slipway exists and no package owns it: not this test's to overwrite"

work=$(mktemp -d /tmp/slipway-package-test.XXXXXX)
chmod 0755 "$work"
# the test user's commands start where this script is: a checkout in a private home (/root) is no place it may enter
cd "$work"
netns="slw-pkg-$$"
cleanup() {
  set +e
  cd /
  if [ -x /usr/bin/slipway ]; then
    SLIPWAY_HOME="$work/root-home" /usr/bin/slipway down >/dev/null 2>&1
    setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$work/user" SLIPWAY_HOME="$work/user/home" \
      PATH="$work/bin" /usr/bin/slipway down >/dev/null 2>&1
  fi
  ip netns del "$netns" 2>/dev/null
  if dpkg -s slipway >/dev/null 2>&1; then dpkg -P slipway >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "test-package: $deb ($(du -k "$deb" | cut -f1) KiB)"

# lintian, as a user (it warns about running as root): no errors
cp "$deb" "$work/"
chmod 0644 "$work/$(basename "$deb")"
if ! setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$work" lintian --fail-on error "$work/$(basename "$deb")" > "$work/lintian.txt" 2>&1; then
  cat "$work/lintian.txt" >&2
  fail "lintian reports errors"
fi
ok "lintian: no errors ($(grep -c '^[EW]:' "$work/lintian.txt" || true) errors and warnings, overrides in usr/share/lintian/overrides/slipway)"

dpkg -i "$deb" > "$work/dpkg-i.txt" 2>&1 || { cat "$work/dpkg-i.txt" >&2; fail "dpkg -i"; }
ok "dpkg -i"
for path in /usr/bin/slipway /usr/lib/slipway/java/bin/java /usr/lib/slipway/bin/slipway-helper /lib/systemd/system/slipway-helper.service \
            /usr/share/bash-completion/completions/slipway /usr/lib/slipway/java/lib/server/classes.jsa /usr/lib/slipway/cli.jsa; do
  [ -e "$path" ] || fail "$path is missing after install"
done
ok "installed: CLI, Java runtime, helper and its unit, bash completion, class-data archives made by postinst"
getent group slipway-users >/dev/null || fail "postinst did not create the group slipway-users"
ok "group slipway-users exists"
depends=$(dpkg-deb -f "$deb" Depends)
if echo "$depends" | grep -Eq 'libx11|libasound|libfreetype|openjdk|default-jre'; then fail "the package depends on a desktop library or a JDK: $depends"; fi
ok "Depends: $depends"
ok "Java runtime modules: $(/usr/lib/slipway/java/bin/java --list-modules | cut -d@ -f1 | paste -sd' ')"
bash -c 'source /usr/share/bash-completion/completions/slipway; COMP_WORDS=(slipway dock); COMP_CWORD=1; _slipway; [ "${COMPREPLY[*]}" = "docker-env" ]' \
  || fail "bash completion does not complete 'slipway dock' to docker-env"
ok "bash completion"

# A user who is not root, with no JDK anywhere on the PATH: only the package's own Java runtime.
mkdir -p "$work/bin" "$work/user"
for tool in sh id ip busybox cat env; do
  found=$(command -v "$tool" || true)
  [ -n "$found" ] && ln -s "$found" "$work/bin/$tool"
done
ln -s /usr/bin/slipway "$work/bin/slipway"
chown -R 65534:65534 "$work/user"
as_user() {
  setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME="$work/user" SLIPWAY_HOME="$work/user/home" PATH="$work/bin" "$@"
}
as_user sh -c 'command -v java' >/dev/null 2>&1 && fail "java is on the test user's PATH"
version=$(as_user slipway --version) || fail "slipway --version"
ok "as a user, no JDK on PATH: $version"
started=$(date +%s%N)
as_user slipway up -d > "$work/up.txt" 2>&1 || { cat "$work/up.txt" >&2; cat "$work/user/home/run/slipway.log" >&2 || true; fail "slipway up -d as a user"; }
ok "as a user: $(head -n 1 "$work/up.txt") [$(( ($(date +%s%N) - started) / 1000000 )) ms with the CLI]"
as_user slipway status > "$work/status.txt" 2>&1 || { cat "$work/status.txt" >&2; fail "slipway status as a user"; }
ok "as a user: $(head -n 1 "$work/status.txt")"
as_user slipway status --json | grep -q '"ready": true' || fail "status --json is not ready"
runtime_pid=$(as_user slipway status --json | sed -n 's/^  "pid": \([0-9]*\),/\1/p')
runtime_java=$(readlink "/proc/$runtime_pid/exe" || true)
case "$runtime_java" in /usr/lib/slipway/java/bin/java) ;; *) fail "the runtime runs on $runtime_java, not the package's Java runtime" ;; esac
ok "the runtime (pid $runtime_pid) runs on $runtime_java"
if as_user slipway docker-env > "$work/docker-env.txt" 2>&1; then fail "docker-env with no engine configured succeeded"; fi
grep -q "no docker engine is configured" "$work/docker-env.txt" || { cat "$work/docker-env.txt" >&2; fail "docker-env does not say what is missing"; }
ok "as a user: docker-env says what is missing"
as_user slipway down > "$work/down.txt" 2>&1 || { cat "$work/down.txt" >&2; fail "slipway down as a user"; }
ok "as a user: $(head -n 1 "$work/down.txt")"

# As root: the guest namespace, ready when up -d returns, and ip netns exec stays silent.
SLIPWAY_HOME="$work/root-home" /usr/bin/slipway up -d --netns "$netns" > "$work/up-root.txt" 2>&1 \
  || { cat "$work/up-root.txt" >&2; fail "slipway up -d as root"; }
SLIPWAY_HOME="$work/root-home" /usr/bin/slipway status --json > "$work/status-root.json"
if command -v busybox >/dev/null && [ -e /dev/net/tun ]; then
  grep -A3 '"guest"' "$work/status-root.json" | grep -q '"ready": true' || { cat "$work/status-root.json" >&2; fail "the guest is not ready when up -d returned"; }
  said=$(ip netns exec "$netns" true 2>&1)
  [ -z "$said" ] || fail "ip netns exec $netns true printed: $said"
  ok "as root: $(grep "Slipway is up" "$work/up-root.txt"); ip netns exec prints nothing"
else
  echo "test-package: skipped: the guest namespace as root (needs busybox and /dev/net/tun)"
fi
SLIPWAY_HOME="$work/root-home" /usr/bin/slipway down >/dev/null

# Remove, then purge: nothing of the package is left.
dpkg -r slipway > "$work/dpkg-r.txt" 2>&1 || { cat "$work/dpkg-r.txt" >&2; fail "dpkg -r"; }
[ ! -e /usr/lib/slipway ] || fail "/usr/lib/slipway is left after dpkg -r: $(find /usr/lib/slipway | head)"
[ ! -e /usr/bin/slipway ] || fail "/usr/bin/slipway is left after dpkg -r"
ok "dpkg -r: no /usr/lib/slipway, no /usr/bin/slipway"
dpkg -P slipway > "$work/dpkg-p.txt" 2>&1 || { cat "$work/dpkg-p.txt" >&2; fail "dpkg -P"; }
dpkg -s slipway >/dev/null 2>&1 && fail "dpkg still knows slipway after purge"
getent group slipway-users >/dev/null && fail "the group slipway-users is left after purge"
left=$(find /usr/lib/slipway /usr/bin/slipway /lib/systemd/system /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled \
         /var/lib/systemd/deb-systemd-helper-masked /usr/share/bash-completion/completions /usr/share/doc/slipway \
         /usr/share/man/man1/slipway.1.gz /usr/share/lintian/overrides -name '*slipway*' 2>/dev/null || true)
[ -z "$left" ] || fail "left after purge: $left"
# /run/slipway-netns goes with the purge unless another runtime on this machine has a namespace record there
[ ! -e "/run/slipway-netns/$netns.owner" ] || fail "the owner record of $netns is left after purge"
ok "dpkg -P: nothing of slipway is left (files, unit state, group)"
echo "test-package: $passed passed, 0 failed"

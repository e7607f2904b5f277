#!/usr/bin/env bash
# Builds target/slipway_VERSION_ARCH.deb from the distribution: build-deb.sh DIST TARGET MAVEN_VERSION
# (run by this module's pom in the package phase; JAVA_HOME is the JDK that runs Maven, whose jlink
# makes the package's Java runtime). The package tree is staged in TARGET/deb-root, owned by root in
# the archive (dpkg-deb --root-owner-group), so no fakeroot is needed.
set -euo pipefail
for tool in dpkg-deb dpkg-shlibdeps strip; do
  command -v "$tool" >/dev/null || { echo "build-deb.sh: needs $tool (apt-get install -y dpkg-dev binutils)" >&2; exit 2; }
done
dist=$(cd "$1" && pwd)
target=$(mkdir -p "$2" && cd "$2" && pwd)
maven_version=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
java_home=${JAVA_HOME:?JAVA_HOME names the JDK whose jlink makes the runtime}
started=$(date +%s%N)

# 0.1.0-SNAPSHOT -> 0.1.0~snapshot: a native package's version has no hyphen; ~ sorts before the release
version=$(echo "$maven_version" | tr '[:upper:]' '[:lower:]' | sed 's/-/~/g')
arch=$(dpkg --print-architecture)
root="$target/deb-root"
lib="$root/usr/lib/slipway"
rm -rf "$root"
mkdir -p "$lib" "$target"

# The distribution: jars, bundle set, launch scripts; not the source tree's stamp or class-data archives.
cp -r "$dist/lib" "$dist/bundles" "$dist/conf" "$dist/bin" "$lib/"
install -m 0755 "$here/src/slipway" "$lib/bin/slipway"

# The Java runtime: the modules jdeps finds in every jar of the class path and of the bundle set, the
# modules whose packages the bundles' manifests import (the framework resolves those against the
# runtime's packages; jdeps does not read manifests: ImportedModules.java does), and the service
# providers no class names (EC keys for TLS). Modular jars are read as plain class folders (module-info
# removed): the runtime puts them on the class path or in bundles, never on a module path. The module
# list is kept in TARGET and found again only when a jar or the JDK changed; the runtime is made again
# only when the module list or the JDK changed.
stamp=$( (echo "$java_home $("$java_home/bin/java" -version 2>&1 | head -n 1)"; cat "$here/ImportedModules.java"; \
          cd "$dist" && find lib bundles -name '*.jar' -printf '%p %s %T@\n' | sort) | sha256sum | cut -c1-16)
modules_file="$target/jdeps-$stamp.modules"
if [ ! -s "$modules_file" ]; then
  echo "slipway package: jdeps: finding the Java modules the jars need..."
  classes="$target/jdeps-classes"
  rm -rf "$classes" "$target"/jdeps-*.modules
  mkdir -p "$classes"
  for jar in "$dist"/lib/*.jar "$dist"/bundles/*.jar; do
    name=$(basename "$jar" .jar)
    mkdir -p "$classes/$name"
    (cd "$classes/$name" && "$java_home/bin/jar" xf "$jar" && find . -name module-info.class -delete)
  done
  found=$("$java_home/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 -q "$classes"/*)
  imported=$("$java_home/bin/java" "$here/ImportedModules.java" "$dist"/bundles/*.jar)
  rm -rf "$classes"
  echo "$found,$imported,jdk.crypto.ec" | tr ',' '\n' | grep -v '^$' | sort -u | paste -sd, > "$modules_file"
fi
modules=$(cat "$modules_file")
# the runtime depends on the JDK and the module list only: a rebuild with new jars but the same modules reuses it
image="$target/jlink-$( (echo "$java_home $("$java_home/bin/java" -version 2>&1 | head -n 1) $modules") | sha256sum | cut -c1-16)"
if [ ! -x "$image/bin/java" ]; then
  echo "slipway package: jlink: a Java runtime with $modules..."
  rm -rf "$target"/jlink-*
  "$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
    --compress=2 --output "$image.tmp"
  # the class-data archive is made at install (postinst): it is the machine's, not the build's
  rm -f "$image.tmp/lib/server/classes.jsa" "$image.tmp/lib/server/classes_nocoops.jsa"
  # java.desktop is there for the framework to resolve the packages bundles import (jetty-util imports
  # java.awt); Slipway draws nothing, plays nothing and renders no fonts, so the native code that needs
  # X11, ALSA, FreeType and the image libraries stays out, and with it those packages' dependencies.
  rm -f "$image.tmp"/lib/{libawt_xawt,libjawt,libsplashscreen,libjsound,libfontmanager,libjavajpeg,liblcms}.so
  mv "$image.tmp" "$image"
fi
cp -r "$image" "$lib/java"
# the JDK's legal notices stay with the runtime; the package's copyright file points at them
find "$lib/java/legal" -type l -delete

# /usr/bin/slipway, the helper's unit, bash completion, manual page, docs, lintian overrides
mkdir -p "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/bash-completion/completions" \
  "$root/usr/share/man/man1" "$root/usr/share/doc/slipway" "$root/usr/share/lintian/overrides"
ln -s ../lib/slipway/bin/slipway "$root/usr/bin/slipway"
install -m 0644 "$here/src/slipway-helper.service" "$root/lib/systemd/system/slipway-helper.service"
install -m 0644 "$here/src/bash-completion" "$root/usr/share/bash-completion/completions/slipway"
gzip -9n < "$here/src/slipway.1" > "$root/usr/share/man/man1/slipway.1.gz"
install -m 0644 "$here/src/copyright" "$root/usr/share/doc/slipway/copyright"
sed "s/@VERSION@/$version/" "$here/src/changelog" | gzip -9n > "$root/usr/share/doc/slipway/changelog.gz"
install -m 0644 "$here/src/lintian-overrides" "$root/usr/share/lintian/overrides/slipway"

# Modes: directories 0755, files 0644, executables 0755 (what the JDK and the distribution mark so).
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod go-w,u+rw,a+r {} +
chmod 0755 "$lib"/bin/* "$lib/java/bin"/*
find "$lib/java/lib" -type f \( -name jspawnhelper -o -name jexec \) -exec chmod 0755 {} +
# The JDK's native code without symbols (Debian ships them apart); the runtime needs none.
find "$lib/java" -type f \( -name '*.so' -o -perm -u+x \) -exec sh -c 'head -c 4 "$1" | grep -q ELF' _ {} \; \
  -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +

# The control file: Depends on the shared libraries the runtime's binaries link (dpkg-shlibdeps).
mkdir -p "$root/DEBIAN" "$target/shlibdeps/debian"
printf 'Source: slipway\n\nPackage: slipway\nArchitecture: any\n' > "$target/shlibdeps/debian/control"
elfs=$(find "$lib/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -exec sh -c 'head -c 4 "$1" | grep -q ELF && echo "$1"' _ {} \;)
shlibs=$(cd "$target/shlibdeps" && dpkg-shlibdeps -O --ignore-missing-info -l"$lib/java/lib" -l"$lib/java/lib/server" $elfs 2>/dev/null \
  | sed -n 's/^shlibs:Depends=//p')
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SHLIBS@/$shlibs/" -e "s/@SIZE@/$installed_size/" \
  "$here/src/control" > "$root/DEBIAN/control"
for script in postinst prerm postrm; do
  install -m 0755 "$here/src/$script" "$root/DEBIAN/$script"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"

deb="$target/slipway_${version}_${arch}.deb"
rm -f "$target"/slipway_*.deb
dpkg-deb --root-owner-group -Zgzip -z9 --build "$root" "$deb" >/dev/null
echo "slipway package: $deb ($(du -k "$deb" | cut -f1) KiB, installed $installed_size KiB, Java modules $modules) in $(( ($(date +%s%N) - started) / 1000000 )) ms"

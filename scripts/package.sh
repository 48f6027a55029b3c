#!/usr/bin/env bash
# Builds lanchat's packages into target/package/:
#
#   lanchat-<version>-setup.exe             the Windows installer (NSIS)
#   lanchat-<version>-windows-portable.zip  Windows without installing
#   lanchat_<version>_amd64.deb             Debian and Ubuntu
#
# By default it builds both release binaries with cargo first (adding the
# Rust target x86_64-pc-windows-gnu if missing). To package binaries built
# elsewhere instead:
#
#   LANCHAT_WINDOWS_EXE=path/lanchat.exe LANCHAT_LINUX_BIN=path/lanchat scripts/package.sh
#
# Needs makensis (nsis), zip, dpkg-deb and dpkg-shlibdeps (dpkg-dev), and
# mingw-w64 to build the Windows binary; it apt-installs what is missing,
# as .ci/run does. The version is Cargo.toml's. The .deb's Maintainer is
# DEBFULLNAME <DEBEMAIL> when set, else the last commit's author.
# How the pieces are made: packaging/windows/lanchat.nsi, packaging/linux/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
umask 022

version=$(awk -F'"' '/^\[package\]/ { p = 1; next } /^\[/ { p = 0 }
    p && /^version *=/ { print $2; exit }' Cargo.toml)
[ -n "$version" ] || { echo "no version in Cargo.toml" >&2; exit 1; }
# Windows wants four numbers in a file's version: 0.1.0-rc1 -> 0.1.0.0.
version4=${version%%[-+]*}.0

windows=x86_64-pc-windows-gnu
out=$root/target/package

need=()
command -v makensis >/dev/null 2>&1 || need+=(nsis)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
if [ -z "${LANCHAT_WINDOWS_EXE:-}" ]; then
    command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(mingw-w64)
fi
if ((${#need[@]})); then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y --no-install-recommends "${need[@]}"; then
        $sudo apt-get update
        $sudo apt-get install -y --no-install-recommends "${need[@]}"
    fi
fi

target_dir=${CARGO_TARGET_DIR:-$root/target}
if [ -n "${LANCHAT_WINDOWS_EXE:-}" ]; then
    exe=$(realpath "$LANCHAT_WINDOWS_EXE")
else
    rustup target list --installed | grep -qx "$windows" || rustup target add "$windows"
    cargo build --release --target "$windows" --bin lanchat
    exe=$target_dir/$windows/release/lanchat.exe
fi
if [ -n "${LANCHAT_LINUX_BIN:-}" ]; then
    bin=$(realpath "$LANCHAT_LINUX_BIN")
else
    cargo build --release --bin lanchat
    bin=$target_dir/release/lanchat
fi
[ -f "$exe" ] || { echo "no Windows binary at $exe" >&2; exit 1; }
[ -f "$bin" ] || { echo "no Linux binary at $bin" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# Files in the archives carry the last commit's time, not the build's.
stamp=$(git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH=$stamp

# ---- Windows installer
setup=$out/lanchat-$version-setup.exe
echo "== $setup"
makensis -V2 -DVERSION="$version" -DVERSION4="$version4" -DEXE="$exe" -DOUT="$setup" \
    packaging/windows/lanchat.nsi

# ---- Windows portable ZIP: lanchat\lanchat.exe, the marker, README.txt
zipfile=$out/lanchat-$version-windows-portable.zip
echo "== $zipfile"
mkdir -p "$stage/zip/lanchat"
cp "$exe" "$stage/zip/lanchat/lanchat.exe"
: >"$stage/zip/lanchat/portable"
# For Notepad: CRLF, and a byte-order mark so the Russian half reads right.
{ printf '\357\273\277'; sed 's/$/\r/' packaging/windows/portable-README.txt; } \
    >"$stage/zip/lanchat/README.txt"
find "$stage/zip" -exec touch -h -d "@$stamp" {} +
(cd "$stage/zip" && zip -q -X -r "$zipfile" lanchat/lanchat.exe lanchat/portable lanchat/README.txt)

# ---- Debian package
deb=$out/lanchat_${version}_amd64.deb
echo "== $deb"
pkg=$stage/deb
install -D -m 0755 "$bin" "$pkg/usr/bin/lanchat"
install -D -m 0644 assets/lanchat.desktop "$pkg/usr/share/applications/lanchat.desktop"
install -D -m 0644 assets/icon-48.png "$pkg/usr/share/icons/hicolor/48x48/apps/lanchat.png"
install -D -m 0644 assets/icon.png "$pkg/usr/share/icons/hicolor/256x256/apps/lanchat.png"
install -D -m 0644 packaging/linux/copyright "$pkg/usr/share/doc/lanchat/copyright"
# The libraries the binary links (libc, libgcc); dpkg-shlibdeps wants a
# debian/control to run beside.
mkdir -p "$stage/shlibs/debian"
printf 'Source: lanchat\n\nPackage: lanchat\nArchitecture: amd64\n' >"$stage/shlibs/debian/control"
depends=$(cd "$stage/shlibs" && dpkg-shlibdeps -O "$pkg/usr/bin/lanchat" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p') || true
depends=${depends:-libc6}
maintainer="${DEBFULLNAME:-} <${DEBEMAIL:-}>"
if [ -z "${DEBFULLNAME:-}" ] || [ -z "${DEBEMAIL:-}" ]; then
    maintainer=$(git log -1 --format='%an <%ae>' 2>/dev/null || echo "lanchat <lanchat@localhost>")
fi
# A native package's changelog: one entry, this build.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
printf 'lanchat (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
    "$version" "$commit" "$maintainer" "$(date -R -u -d "@$stamp")" |
    gzip -9n >"$pkg/usr/share/doc/lanchat/changelog.gz"
chmod 0644 "$pkg/usr/share/doc/lanchat/changelog.gz"
size=$(du -sk --apparent-size "$pkg/usr" | cut -f1)
mkdir -p "$pkg/DEBIAN"
# The window loads its graphics and keyboard libraries at run time
# (dlopen), so dpkg-shlibdeps cannot see them: they are recommended (a
# desktop has them; `lanchat headless` needs none), as is a player for the
# beep (pw-play, paplay or aplay).
cat >"$pkg/DEBIAN/control" <<EOF
Package: lanchat
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Recommends: libegl1 | libgl1, libxkbcommon0, libwayland-client0, libwayland-egl1, libx11-6, libx11-xcb1, libxcb1, libxkbcommon-x11-0, libxcursor1, libxi6, libxrender1
Suggests: pipewire-bin | pulseaudio-utils | alsa-utils
Section: net
Priority: optional
Description: serverless chat for an office or home network
 Every running copy is a peer: no server, no accounts, no set-up. Start
 it and you are in #Main with everyone else on the LAN. Channels, private
 messages (end-to-end encrypted), history and search, file transfer, a
 network doctor that says why someone is invisible. The window, or
 "lanchat headless" for a terminal.
 .
 It uses UDP ports 47077-47078 (multicast group 239.255.77.77) and TCP
 port 47079.
EOF
find "$pkg" -exec touch -h -d "@$stamp" {} +
dpkg-deb --build --root-owner-group "$pkg" "$deb" >/dev/null

echo
echo "Packages in target/package (version $version):"
for f in "$setup" "$zipfile" "$deb"; do
    printf '  %-42s %6s  (%s bytes)\n' "$(basename "$f")" \
        "$(numfmt --to=iec --suffix=B "$(stat -c %s "$f")")" "$(stat -c %s "$f")"
done

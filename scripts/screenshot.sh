#!/usr/bin/env bash
# Takes assets/screenshot.png: the real window under Xvfb, in a network
# namespace of its own, with two headless nodes (bob, carol) talking in
# #Main and bob sending the window's user a private message.
#
# Runs in a private D-Bus session with dunst (notifications) and a stand-in
# tray watcher, so the desktop integration is live too.
# Needs root (for the namespace) and: apt-get install xvfb x11-apps imagemagick
# xdotool dbus dunst python3-dbus python3-gi
# Usage: scripts/screenshot.sh [out.png]   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-assets/screenshot.png}
if [ -z "${LANCHAT_IN_SESSION:-}" ]; then
    cargo build --release --quiet
    LANCHAT_IN_SESSION=1 exec dbus-run-session -- "$0" "$@"
fi
bin=$PWD/target/release/lanchat
ns=lanchat-shot-$$
tmp=$(mktemp -d)
display=:$((90 + $$ % 9))
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    # Everything still running in the namespace.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    sleep 0.3
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# An office LAN card, so the window does not (rightly) say "no network".
ip netns exec "$ns" ip link add eth0 type veth peer name eth1
ip netns exec "$ns" ip link set eth1 up
ip netns exec "$ns" ip addr add 10.77.0.10/24 dev eth0
ip netns exec "$ns" ip link set eth0 up
ip netns exec "$ns" ip link set eth0 multicast on
inns() { ip netns exec "$ns" "$@"; }

inns Xvfb "$display" -screen 0 1000x680x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
sleep 1
DISPLAY=$display inns dunst >/dev/null 2>&1 &
pids+=($!)
SNI_PASSIVE=1 inns /usr/bin/python3 scripts/sni_watcher.py >/dev/null 2>&1 &
pids+=($!)
sleep 1

# A node that reads commands from a fifo.
node() {
    local nick=$1
    mkfifo "$tmp/$nick.in"
    inns "$bin" headless --nick "$nick" --data-dir "$tmp/$nick" <"$tmp/$nick.in" >"$tmp/$nick.out" 2>/dev/null &
    pids+=($!)
    exec {fd}>"$tmp/$nick.in"
    eval "fd_$nick=$fd"
}
node bob
node carol
say() { local fd="fd_$1"; echo "$2" >&"${!fd}"; sleep "${3:-0.6}"; }

XDG_CONFIG_HOME=$tmp/config DISPLAY=$display inns env LANG=en_US.UTF-8 "$bin" \
    --nick alice --data-dir "$tmp/alice" >/dev/null 2>"$tmp/alice.err" &
pids+=($!)
sleep 4
say carol "/away back at 3"
say bob "/topic #Main Release day: v2.4 goes out at 16:00"
say bob "Morning! Build 2.4.0-rc2 is on the share: https://intranet.example/builds/2.4"
say carol "Thanks. Smoke tests pass on Windows 11 and on the Astra Linux PCs 👍"
say bob "/me brings coffee for the release team"
say carol "alice, can you check the installer on the old XP box?"
say bob "Коллеги, релиз в 16:00 — не забудьте обновить документацию."
say bob "/msg alice the license key is in the safe, second shelf" 1
say bob "/join #dev"
# The notifications of the mention and the DM (the window is not focused yet).
DISPLAY=$display inns xwd -root -silent | /usr/bin/convert xwd:- png:"${out%.png}-notifications.png"
ip netns pids "$ns" | xargs -r ps -o pid=,comm= -p | awk '$2 == "dunst" {print $1}' | xargs -r kill
sleep 0.5

win=$(DISPLAY=$display inns xdotool search --name lanchat | head -1)
DISPLAY=$display inns xdotool windowfocus --sync "$win"
DISPLAY=$display inns xdotool type --delay 30 "On it: testing the XP installer now."
DISPLAY=$display inns xdotool key Return
sleep 1
DISPLAY=$display inns xdotool type --delay 40 "carol"
sleep 1.5
DISPLAY=$display inns xwd -root -silent | /usr/bin/convert xwd:- png:"$out"
echo "wrote $out"

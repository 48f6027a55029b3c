#!/usr/bin/env bash
# Checks src/desktop against real D-Bus services, by hand (not part of CI):
# a private session bus, a stand-in tray watcher, and dunst on Xvfb.
#
#   apt-get install -y --no-install-recommends dbus dbus-x11 dunst xvfb \
#       python3-dbus python3-gi x11-apps imagemagick
#   scripts/desktop_live_check.sh [OUT_DIR]
#
# Prints what the tray's D-Bus properties read back as, the actions the probe
# received, and whether the notification went out; leaves the tray pixmaps
# (as the watcher saw them) and a screenshot of the notification in OUT_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
export OUT_DIR="${1:-${OUT_DIR:-/tmp/lanchat-desktop-check}}"
mkdir -p "$OUT_DIR"

if [ -z "${LANCHAT_IN_SESSION:-}" ]; then
    cargo build --release --example desktop_probe
    LANCHAT_IN_SESSION=1 exec dbus-run-session -- "$0" "$@"
fi

P="${CARGO_TARGET_DIR:-target}/release/examples/desktop_probe"

echo "--- tray, no watcher on the bus (expect: desktop service unavailable)"
RUST_BACKTRACE=0 "$P" tray || true

echo "--- tray, with a watcher"
/usr/bin/python3 scripts/sni_watcher.py &
watcher=$!
sleep 1
timeout 40 "$P" tray
wait "$watcher"

echo "--- notification, no daemon able to start (expect: notification failed)"
DISPLAY= "$P" notify

echo "--- notification, dunst on Xvfb"
Xvfb :77 -screen 0 800x600x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
sleep 1
DISPLAY=:77 dunst >"$OUT_DIR/dunst.log" 2>&1 &
dunst=$!
dbus-monitor "interface='org.freedesktop.Notifications',member='Notify'" >"$OUT_DIR/monitor.log" 2>&1 &
monitor=$!
sleep 1
"$P" notify
DISPLAY=:77 xwd -root -silent | /usr/bin/convert xwd:- png:"$OUT_DIR/notification.png"
grep -A5 "member=Notify" "$OUT_DIR/monitor.log" || echo "no Notify call seen"
kill "$monitor" "$dunst" "$xvfb"

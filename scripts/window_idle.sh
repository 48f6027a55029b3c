#!/usr/bin/env bash
# Idle CPU and memory of the real window: starts it under Xvfb in a network
# namespace with one interface and no peers, waits for start-up, then counts
# the CPU ticks it uses over SECONDS (default 20) from /proc/PID/stat.
# FOCUS=1 focuses the window first (the cursor sits in the input).
#
# Needs root and: apt-get install xvfb xdotool
# Usage: scripts/window_idle.sh [SECONDS]   (uses target/release/lanchat)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
bin=$PWD/target/release/lanchat
ns=lanchat-idle-$$
tmp=$(mktemp -d)
display=:$((50 + $$ % 9))
cleanup() {
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    sleep 0.5
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
inns() { ip netns exec "$ns" "$@"; }
inns ip link set lo up
inns ip link add eth0 type veth peer name eth1
inns ip link set eth1 up
inns ip addr add 10.77.0.10/24 dev eth0
inns ip link set eth0 up
ip netns exec "$ns" Xvfb "$display" -screen 0 1000x680x24 -nolisten tcp >/dev/null 2>&1 &
sleep 1
XDG_CONFIG_HOME=$tmp/config DISPLAY=$display ip netns exec "$ns" "$bin" --nick idle --data-dir "$tmp/data" >/dev/null 2>&1 &
pid=$!
sleep 6
if [ "${FOCUS:-}" = 1 ]; then
    win=$(DISPLAY=$display inns xdotool search --name lanchat | head -1)
    DISPLAY=$display inns xdotool windowfocus --sync "$win"
fi
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
sleep "$secs"
t1=$(ticks)
hz=$(getconf CLK_TCK)
echo "window idle for ${secs} s (focus: ${FOCUS:-0}): $((t1 - t0)) CPU ticks of $((secs * hz)) ($(awk "BEGIN {printf \"%.2f\", 100 * ($t1 - $t0) / ($secs * $hz)}") %)"
grep VmRSS "/proc/$pid/status"

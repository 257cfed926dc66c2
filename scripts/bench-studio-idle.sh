#!/usr/bin/env bash
# The studio as a person starts it, over a ledger of 10,000 jobs, on the built-in simulator:
# the time from launch to the first frame, then the CPU it uses over 10 s of idling, and its
# peak resident memory.
# Usage: scripts/bench-studio-idle.sh [path/to/fluxdeck]   (default: the release build)
set -euo pipefail
binary=$(realpath "${1:-.build-release/release/fluxdeck}")
socket=fluxdeck-bench-$$
dir=$(mktemp -d)
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$dir"' EXIT

"$(dirname "$binary")/fluxdeck-bench" fill-ledger --count 10000 --path "$dir/data/fluxdeck/fluxdeck.sqlite" >/dev/null
mkfifo "$dir/frames"
start=$(date +%s%N)
tmux -L "$socket" new-session -d -x 200 -y 60 \
  "exec env -u BFL_API_KEY HOME='$dir' XDG_DATA_HOME='$dir/data' TERM=tmux-256color '$binary' --notify '$dir/frames'"
exec 3<"$dir/frames"   # kept open: the studio writes a line per frame
read -r -t 60 first <&3
ready=$(date +%s%N)
echo "first frame: $(( (ready - start) / 1000000 )) ms after launch ($first)"

pid=$(tmux -L "$socket" list-panes -F '#{pane_pid}')
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
sleep 1   # let start-up work (resume, the balance) settle
before=$(ticks)
sleep 10
after=$(ticks)
awk -v t=$((after - before)) -v hz="$hz" 'BEGIN { printf "idle CPU over 10 s: %.2f %% of one core (%d ticks at %d Hz)\n", 100 * t / hz / 10, t, hz }'
awk '/^VmHWM/ { printf "peak resident memory: %.1f MB\n", $2 / 1024 }' "/proc/$pid/status"
tmux -L "$socket" send-keys q

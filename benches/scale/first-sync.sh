#!/usr/bin/env bash
# The first sync of a large card (issue 24): the simulator with CLIPS
# recordings (front and rear: 2 x CLIPS clips of SIZE) and `viofosync sync`
# into an empty archive for SECS seconds, then a first interrupt (the sync
# finishes the clip in flight and stops). Every STEP seconds it prints the
# clips archived so far and the sync process's CPU seconds (user + system),
# and the per-clip CPU of each interval; at the end the sync's peak RSS.
#
#   benches/scale/first-sync.sh [BIN] [CLIPS] [SECS] [GPS]
#   cargo build --release -p viofosync && benches/scale/first-sync.sh target/release/viofosync 20000 60 true
#
# Everything stays on 127.0.0.1 (the simulator's port 0) and under a
# temporary folder, removed at the end.
set -euo pipefail
BIN=$(realpath "${1:-target/release/viofosync}")
CLIPS=${2:-20000}
SECS=${3:-60}
GPS=${4:-true}
SIZE=${SIZE:-40KB}
STEP=${STEP:-5}
T=$(mktemp -d)
export XDG_CONFIG_HOME="$T" XDG_STATE_HOME="$T"
trap 'kill $SIM 2>/dev/null || true; rm -rf "$T"' EXIT
"$BIN" sim --clips "$CLIPS" --clip-size "$SIZE" --rear --max-connections 8 >"$T/sim.out" 2>"$T/sim.err" &
SIM=$!
for _ in $(seq 600); do grep -q listening "$T/sim.out" && break; sleep 0.1; done
URL=$(sed -n 's/.*listening on //p' "$T/sim.out")
mkdir -p "$T/archive"
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss() { awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
count() { find "$T/archive" -name '*.MP4' 2>/dev/null | wc -l; }
/usr/bin/time -f '%M %U %S' -o "$T/rss" "$BIN" sync --address "$URL" --archive "$T/archive" \
  --state-db "$T/state.db" --gps="$GPS" >"$T/sync.out" 2>"$T/sync.err" &
TPID=$!
sleep 0.3
SYNC=$(pgrep -P "$TPID" | head -1)
echo "card: $CLIPS recordings x 2 channels x $SIZE, gps $GPS, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%6s %8s %8s %14s %9s\n' "t (s)" clips "cpu (s)" "cpu/clip (ms)" "RSS (MB)"
prev_n=0; prev_c=0
for t in $(seq "$STEP" "$STEP" "$SECS"); do
  sleep "$STEP"
  kill -0 "$SYNC" 2>/dev/null || break
  n=$(count); c=$(cpu "$SYNC")
  per=$(awk -v n="$n" -v pn="$prev_n" -v c="$c" -v pc="$prev_c" \
    'BEGIN { d = n - pn; if (d > 0) printf "%.2f", (c - pc) * 1000 / d; else print "-" }')
  printf '%6s %8s %8s %14s %9s\n' "$t" "$n" "$c" "$per" "$(rss "$SYNC")"
  prev_n=$n; prev_c=$c
done
kill -INT "$SYNC" 2>/dev/null || true
wait "$TPID" || true
read -r RSS USR SYS < <(tail -1 "$T/rss")
N=$(count)
echo "archived $N clips; CPU $USR s user + $SYS s system, $(awk -v u="$USR" -v s="$SYS" -v n="$N" 'BEGIN { printf "%.2f", (u + s) * 1000 / n }') ms a clip; peak RSS $(( RSS / 1024 )) MB (the sync process); load $(cut -d' ' -f1-3 /proc/loadavg)"
tail -3 "$T/sync.err" | cut -c1-200

#!/usr/bin/env bash
# `watch` on a year's store, idle (issue 24): the simulator's 1,400-clip
# card, all archived already, synced every INTERVAL for SECS seconds (an
# hour of idle cycles at 60 s is 60 cycles; at 1 s, SECS=600 is ten
# times that), printing the watch process's RSS and CPU every STEP seconds
# and the cycles it recorded. RSS flat: no growth after the first cycles.
#
#   benches/scale/idle-watch.sh target/release/viofosync /tmp/year/state.db [SECS] [INTERVAL]
#
# Everything stays on 127.0.0.1 (port 0) and under a temporary folder,
# removed at the end; the store is a copy.
set -euo pipefail
BIN=$(realpath "${1:-target/release/viofosync}")
DB=$(realpath "$2")
SECS=${3:-600}
INTERVAL=${4:-1s}
STEP=${STEP:-30}
T=$(mktemp -d)
export XDG_CONFIG_HOME="$T" XDG_STATE_HOME="$T"
SIM=; W=
trap 'kill $W $SIM 2>/dev/null || true; rm -rf "$T"' EXIT
cp "$DB" "$T/state.db"
"$BIN" sim --clips 700 --clip-size 40KB --rear >"$T/sim.out" 2>"$T/sim.err" &
SIM=$!
for _ in $(seq 600); do grep -q listening "$T/sim.out" && break; sleep 0.1; done
URL=$(sed -n 's/.*listening on //p' "$T/sim.out")
mkdir -p "$T/archive"
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{printf "%.1f", ($14+$15)/t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cycles() { sqlite3 -readonly "$T/state.db" "SELECT COUNT(*) FROM cycles" 2>/dev/null || echo "?"; }
VIOFOSYNC_INTERVAL=$INTERVAL "$BIN" watch --state-db "$T/state.db" --camera-id year \
  --address "$URL" --archive "$T/archive" --gps=false >"$T/watch.out" 2>"$T/watch.err" &
W=$!
c0=$(cycles)
echo "watch every $INTERVAL for $SECS s on $(basename "$DB"), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%6s %8s %9s %8s\n' "t (s)" cycles "RSS (MB)" "cpu (s)"
for t in $(seq "$STEP" "$STEP" "$SECS"); do
  sleep "$STEP"
  kill -0 "$W" 2>/dev/null || { echo "watch exited"; tail -5 "$T/watch.err"; exit 1; }
  printf '%6s %8s %9s %8s\n' "$t" "$(( $(cycles) - c0 ))" "$(rss "$W")" "$(cpu "$W")"
done
kill -INT "$W"; wait "$W" || true
echo "load $(cut -d' ' -f1-3 /proc/loadavg); warnings: $(grep -c WARN "$T/watch.err" || true)"

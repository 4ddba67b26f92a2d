#!/usr/bin/env bash
# A year's store (issue 24): `status`, `queue --state failed`, `trips` of
# the store's last 30 days and an idle re-sync of the 1,400-clip card, each ROUNDS
# times, on a copy of a store made by the `year_store` example. GNU `time`
# gives each process's wall time, user and system CPU and peak RSS.
#
#   cargo run --release -p viofo-pipeline --example year_store -- --db /tmp/year/state.db
#   benches/scale/year-store.sh target/release/viofosync /tmp/year/state.db [ROUNDS]
#
# Several binaries side by side: BINS="old/viofosync new/viofosync"
# alternates them round by round (each on its own copy of the store; a
# newer binary migrates its copy once, untimed, before the rounds).
# Everything stays on 127.0.0.1 (the simulator's port 0) and under a
# temporary folder, removed at the end.
set -euo pipefail
BINS=${BINS:-${1:-target/release/viofosync}}
DB=$(realpath "$2")
ROUNDS=${3:-3}
# The first day of the store's last 30 days of journeys.
SINCE=${SINCE:-2025-11-24}
T=$(mktemp -d)
export XDG_CONFIG_HOME="$T" XDG_STATE_HOME="$T"
SIM=
trap 'kill $SIM 2>/dev/null || true; rm -rf "$T"' EXIT
first=$(echo "$BINS" | awk '{print $1}')
"$first" sim --clips 700 --clip-size 40KB --rear >"$T/sim.out" 2>"$T/sim.err" &
SIM=$!
for _ in $(seq 600); do grep -q listening "$T/sim.out" && break; sleep 0.1; done
URL=$(sed -n 's/.*listening on //p' "$T/sim.out")
mkdir -p "$T/archive"
i=0
for b in $BINS; do
  i=$((i + 1))
  cp "$DB" "$T/state-$i.db"
  # Untimed: migrations, and the first listing's bookkeeping.
  "$b" sync --state-db "$T/state-$i.db" --camera-id year --address "$URL" --archive "$T/archive" \
    --gps=false >/dev/null 2>&1 || true
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-26s %8s %8s %8s %8s\n' build command "wall s" "user s" "sys s" "RSS MB"
run() { # build label cmd...
  local b=$1 label=$2; shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$T/t" "$@" >/dev/null 2>"$T/err" || true
  read -r e u s m < <(tail -1 "$T/t")
  printf '%-10s %-26s %8s %8s %8s %8d\n' "$b" "$label" "$e" "$u" "$s" $((m / 1024))
}
for r in $(seq "$ROUNDS"); do
  i=0
  for b in $BINS; do
    i=$((i + 1))
    db="$T/state-$i.db"
    name="$(basename "$(dirname "$(dirname "$b")")")"
    run "$name" status "$b" status --state-db "$db" --camera-id year
    run "$name" "queue --state failed" "$b" queue --state-db "$db" --camera year --state failed
    run "$name" "trips --since $SINCE" "$b" trips --state-db "$db" --camera-id year --since "$SINCE"
    run "$name" "idle sync (1,400 clips)" "$b" sync --state-db "$db" --camera-id year \
      --address "$URL" --archive "$T/archive" --gps=false
  done
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"

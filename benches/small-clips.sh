#!/usr/bin/env bash
# Cost per clip (issue 20): one `viofosync sync` of a card of many small
# clips from the simulated camera (`viofosync sim`, its own process) over
# unthrottled loopback, into a fresh archive and state database each round.
# Reports, per round: wall time, the sync process's user + sys CPU and peak
# RSS (GNU time: getrusage of the child), CPU per clip; with --strace, a
# separate round under `strace -f -c` counts syncs, connections, futex,
# reads and writes per clip (strace slows that round: its wall time is not
# comparable).
#
#   benches/small-clips.sh [--bin PATH] [--clips N] [--size BYTES] [--rounds R]
#                          [--gps true|false] [--strace] [--keep] [--python viofosync.py]
#
# --python runs the Python tool (RobXYZ/viofosync's viofosync.py: one GET
# per clip, no fsync, GPS only with --gps-extract) against the same
# simulator in alternate rounds, for a side-by-side wall time.
#
# Everything runs on 127.0.0.1; the working folder is under $TMPDIR.
set -euo pipefail

BIN=${CARGO_TARGET_DIR:-target}/release/viofosync
CLIPS=1400
SIZE=354000
ROUNDS=3
GPS=true
STRACE=0
KEEP=0
PY=
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$2; shift 2 ;;
    --clips) CLIPS=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --gps) GPS=$2; shift 2 ;;
    --strace) STRACE=1; shift ;;
    --keep) KEEP=1; shift ;;
    --python) PY=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p viofosync)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/small-clips.XXXXXX")
SIM_PID=
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "$PY" ]; then
  # The tool asks for `http://host//DCIM/...` (FPATH's leading backslash
  # kept after `A:`), which the simulator answers 404: drop that slash.
  sed 's|f"{base_url}/{cleaned_filepath}"|f"{base_url}{cleaned_filepath}"|' "$PY" >"$WORK/viofosync.py"
  grep -q 'f"{base_url}{cleaned_filepath}"' "$WORK/viofosync.py" || { echo "cannot adapt $PY" >&2; exit 2; }
  PY=$WORK/viofosync.py
fi

"$BIN" sim --clips "$CLIPS" --clip-size "$SIZE" --delete-delay 0s --max-connections 3 \
  >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
for _ in $(seq 200); do grep -q listening "$WORK/sim.out" 2>/dev/null && break; sleep 0.05; done
URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$WORK/sim.out")
[ -n "$URL" ] || { echo "the simulator did not start:" >&2; cat "$WORK/sim.err" >&2; exit 1; }

echo "# $CLIPS clips of $SIZE bytes from $URL, gps=$GPS, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $("$BIN" --version)"

sync_once() { # $1: round folder; the rest: a prefix command
  local dir=$1; shift
  rm -rf "$dir"; mkdir -p "$dir/archive"
  env -u VIOFOSYNC_CONFIG XDG_CONFIG_HOME="$dir/cfg" XDG_STATE_HOME="$dir/state" \
    "$@" "$BIN" -q sync --address "$URL" --archive "$dir/archive" \
    --state-db "$dir/state.db" --gps="$GPS" --delete-after-download=false
}

report() { # label round time-file archive
  local wall user sys rss n
  read -r wall user sys rss <"$3"
  n=$(find "$4" -name '*.MP4' | wc -l)
  awk -v l="$1" -v r="$2" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" -v c="$CLIPS" -v n="$n" 'BEGIN {
    printf "%-8s %-5s %7.2fs %7.2fs %7.2fs %8.2fms %7.1fMB %6d\n", l, r, w, u, s, (u+s)*1000/c, m/1024, n }'
}

printf '%-8s %-5s %8s %8s %8s %10s %9s %6s\n' tool round wall user sys cpu/clip peakRSS clips
for r in $(seq "$ROUNDS"); do
  sync_once "$WORK/r$r" /usr/bin/time -f '%e %U %S %M' -o "$WORK/time$r" >/dev/null 2>"$WORK/err$r" \
    || { echo "round $r failed:" >&2; tail -5 "$WORK/err$r" >&2; exit 1; }
  report ours "$r" "$WORK/time$r" "$WORK/r$r/archive"
  rm -rf "$WORK/r$r"
  if [ -n "$PY" ]; then
    rm -rf "$WORK/py"; mkdir -p "$WORK/py"
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/pytime$r" \
      python3 "$PY" "${URL#http://}" -d "$WORK/py" -q >/dev/null 2>"$WORK/pyerr$r" \
      || { echo "python round $r failed:" >&2; tail -5 "$WORK/pyerr$r" >&2; exit 1; }
    report python "$r" "$WORK/pytime$r" "$WORK/py"
    rm -rf "$WORK/py"
  fi
done

if [ "$STRACE" = 1 ]; then
  command -v strace >/dev/null || { echo "# no strace: syscall counts skipped"; exit 0; }
  sync_once "$WORK/st" strace -f -c -o "$WORK/strace" \
    -e trace=fsync,fdatasync,syncfs,connect,futex,pread64,read,write,pwrite64,openat,statx,newfstatat \
    >/dev/null 2>"$WORK/errst"
  echo "# syscalls per clip (strace -f -c, one round)"
  awk -v c="$CLIPS" '$1 ~ /^[0-9.]+$/ && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" {
      printf "%-12s %8d calls %8.2f per clip\n", $NF, $4, $4 / c }' "$WORK/strace"
fi

#!/usr/bin/env bash
# The container image, for real (issue 22; run by .ci/run). Builds the image
# with scripts/build-image.sh, then runs it with Podman on the host network
# against `viofosync sim` (127.0.0.1 only), with host folders as /recordings
# and /config and the old image's names (ADDRESS, PUID/PGID, TZ, ...):
#
# - a `podman stop` in the middle of the downloads ends it with exit 0
#   within 10 s, and every clip with a final name is the camera's bytes;
# - started again, it finishes: every clip of the camera, byte for byte, a
#   GPX beside each front clip, everything owned by PUID:PGID; /metrics
#   answers, the health check passes (and fails when nothing answers); a
#   second stop exits 0 within 10 s;
# - RUN_ONCE=1 is one sync that exits 0 (the camera given by host name);
# - PUID=0 is refused (exit 2) naming the way out;
# - the image is at most 25 MB.
#
# Reports itself skipped (with the reason) only where Podman cannot start a
# container. Closing line: "container: N passed, N failed[, N skipped]".
set -euo pipefail
cd "$(dirname "$0")/../.."

image=localhost/viofosync:ci-test
cname=viofosync-ci-$$
max_size=25000000
puid=4321
pgid=4322

work=$(mktemp -d)
sim_pid=
cleanup() {
  if [[ -n ${podman[*]:-} ]]; then
    "${podman[@]}" rm -f -t 0 "$cname" >/dev/null 2>&1 || true
  fi
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

skip() {
  echo "container test skipped: $*"
  echo "container: 0 passed, 0 failed, 1 skipped"
  exit 0
}
fail() {
  echo "container test FAILED: $*" >&2
  if [[ -n ${podman[*]:-} ]]; then
    "${podman[@]}" logs "$cname" 2>&1 | tail -n 40 >&2 || true
  fi
  echo "container: 0 passed, 1 failed"
  exit 1
}
note() { echo "container: $*"; }

command -v podman >/dev/null 2>&1 || skip "podman is not installed (.ci/run installs podman and runc)"
# Where systemd is not the cgroup manager and crun is missing (CI machines).
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
# Never above the host's own limits (Podman's defaults can be); where the
# runtime may not set even those (a nested container's lower hard limit),
# the first lower value it accepts (see step 2).
limit() { [[ $1 == unlimited ]] && echo 1048576 || echo "$1"; }
nofile=$(limit "$(ulimit -n)")
host_nproc=$(limit "$(ulimit -u)")

# 1. The image, in one command.
start=$SECONDS
PODMAN_OPTS="--runtime runc --cgroup-manager=cgroupfs" scripts/build-image.sh "$image" >/dev/null \
  || fail "scripts/build-image.sh failed"
note "image built in $((SECONDS - start)) s"
bin=${CARGO_TARGET_DIR:-$PWD/target}/container-context/viofosync

# 2. Can Podman start a container here? A failure that Podman or the OCI
# runtime reports (exit 125/126, their message) means it cannot; any other
# is the image's.
rc=
for nproc in "$host_nproc" 32768 16384 4096; do
  ((nproc <= host_nproc)) || continue
  limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
  set +e
  version=$("${podman[@]}" run --rm --network host "${limits[@]}" "$image" --version 2>"$work/run.err")
  rc=$?
  set -e
  grep -q 'error setting rlimit' "$work/run.err" || break
done
reason=$( (grep -v 'level=' "$work/run.err" || true) | tail -n 3 | tr '\n' ' ')
if [[ $rc == 125 || $rc == 126 ]] && grep -qiE 'OCI|runc|crun|conmon|cgroup|namespace' "$work/run.err"; then
  skip "podman cannot start a container here (exit $rc): $reason"
fi
[[ $rc == 0 && $version == viofosync* ]] || fail "--version in the image: exit $rc, '$version' $reason"
note "$version runs in the image (${limits[*]})"

size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
note "image size: $size bytes ($((size / 1000000)) MB; limit $((max_size / 1000000)) MB)"
((size <= max_size)) || fail "the image is $size bytes, over $max_size"
health_cfg=$("${podman[@]}" image inspect --format '{{json .HealthCheck}}' "$image")
[[ $health_cfg == *'"/viofosync","health"'* ]] || fail "no exec-form HEALTHCHECK in the image: $health_cfg"

# 3. PUID=0 is refused before anything runs, naming the way out.
set +e
refused=$("${podman[@]}" run --rm --network host "${limits[@]}" -e PUID=0 "$image" 2>&1)
rc=$?
set -e
[[ $rc == 2 && $refused == *"PUID=0"*"PUID=1000"* ]] || fail "PUID=0: exit $rc, '$refused'"

# 4. The camera: a simulator on 127.0.0.1, slow enough that a stop lands in
# the middle of the downloads.
"$bin" sim --clips 5 --clip-size 3MB --rear --seed 22 --bandwidth 3MB >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/sim.out" && break
  sleep 0.1
done
camera=$(sed -n 's|.*listening on http://\(127\.0\.0\.1:[0-9]*\).*|\1|p' "$work/sim.out")
[[ -n $camera ]] || fail "the simulator did not start: $(cat "$work/sim.err")"
# NAME and SIZE of every clip the camera lists.
curl -sf "http://$camera/?custom=1&cmd=3015" \
  | sed -n 's|.*<NAME>\(.*\)</NAME>.*|\1|p; s|.*<SIZE>\(.*\)</SIZE>.*|\1|p' \
  | paste - - >"$work/listing"
clips=$(wc -l <"$work/listing")
((clips == 10)) || fail "the simulator lists $clips clips, not 10: $(cat "$work/listing")"

# A free port on 127.0.0.1 for the status page (the host network is shared).
status_port=
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then status_port=$p; break; fi
done
[[ -n $status_port ]] || fail "no free port for the status page"

mkdir -p "$work/recordings" "$work/config"
chown "$puid:$pgid" "$work/recordings" "$work/config"

# The old image's docker-compose values, blank ones included (MAX_USED_DISK
# at 100: the host disk of a CI machine may be fuller than the usual 90).
"${podman[@]}" create --name "$cname" --network host "${limits[@]}" \
  -v "$work/recordings:/recordings" -v "$work/config:/config" \
  -e ADDRESS="$camera" -e PUID=$puid -e PGID=$pgid -e TZ=Europe/London \
  -e GPS_EXTRACT=1 -e GROUPING=daily -e PRIORITY=date -e KEEP= -e TIMEOUT=10.0 \
  -e MAX_USED_DISK=100 \
  -e VERBOSE=0 -e QUIET= -e CRON=1 -e DRY_RUN= -e RUN_ONCE= \
  -e VIOFOSYNC_LISTEN="127.0.0.1:$status_port" -e VIOFOSYNC_INTERVAL=2s \
  "$image" >/dev/null || fail "podman create failed"

# Clips of the listing with their final name in the archive.
landed() {
  local n=0 name size f
  while read -r name size; do
    f=$(find "$work/recordings" -name "$name" -type f | head -n 1)
    [[ -n $f && $(stat -c %s "$f") == "$size" ]] && n=$((n + 1))
  done <"$work/listing"
  echo "$n"
}
# Every clip with a final name is the camera's bytes.
same_bytes() {
  local name size f
  while read -r name size; do
    f=$(find "$work/recordings" -name "$name" -type f | head -n 1)
    [[ -z $f ]] && continue
    curl -sf "http://$camera/DCIM/Movie/$name" | cmp -s - "$f" \
      || fail "$f is not the camera's bytes"
  done <"$work/listing"
}
# `podman stop`: exit 0 (not a SIGKILL's 137) within 10 s.
stop() {
  local t0=$SECONDS code
  "${podman[@]}" stop -t 10 "$cname" >/dev/null || fail "podman stop failed"
  (( SECONDS - t0 < 10 )) || fail "podman stop took $((SECONDS - t0)) s"
  code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$cname")
  [[ $code == 0 ]] || fail "stopped with exit code $code"
  note "podman stop: exit 0 in $((SECONDS - t0)) s"
}

# 5. Stop in the middle of the downloads.
"${podman[@]}" start "$cname" >/dev/null || fail "podman start failed"
for _ in $(seq 600); do
  (( $(landed) >= 2 )) && break
  sleep 0.1
done
before=$(landed)
(( before >= 2 && before < clips )) || fail "$before of $clips clips before the stop: not in the middle"
stop
same_bytes
at_stop=$(landed)
note "stopped with $at_stop of $clips clips archived, each the camera's bytes"

# 6. Started again, it finishes.
"${podman[@]}" start "$cname" >/dev/null || fail "podman start (again) failed"
for _ in $(seq 1200); do
  (( $(landed) == clips )) && break
  sleep 0.1
done
(( $(landed) == clips )) || fail "only $(landed) of $clips clips archived after 120 s"
same_bytes
while read -r name _; do
  [[ $name == *F.MP4 ]] || continue
  [[ -n $(find "$work/recordings" -name "$name.gpx" -type f) ]] || fail "no $name.gpx"
done <"$work/listing"
wrong=$(find "$work/recordings" "$work/config" \( -not -user $puid -o -not -group $pgid \) -printf '%u:%g %p\n')
[[ -z $wrong ]] || fail "not owned by $puid:$pgid: $wrong"
[[ -f $work/config/viofosync-state.db ]] || fail "no state database under /config"
note "all $clips clips and their GPX archived, owned by $puid:$pgid"

curl -sf "http://127.0.0.1:$status_port/metrics" >"$work/metrics" || fail "/metrics does not answer"
# The counter is the process's: the clips archived since the restart.
grep -q "^viofosync_clips_archived_total $((clips - at_stop))\$" "$work/metrics" \
  || fail "/metrics does not count $((clips - at_stop)) clips archived: $(grep clips_archived "$work/metrics")"
"${podman[@]}" healthcheck run "$cname" >/dev/null || fail "the health check failed"
if "${podman[@]}" exec "$cname" /viofosync health --listen 127.0.0.1:1 >/dev/null 2>&1; then
  fail "the health check passed with nothing listening"
fi
"${podman[@]}" logs "$cname" >"$work/logs" 2>&1
grep -q 'TZ=Europe/London' "$work/logs" || fail "no TZ note in the log"
note "/metrics answers, the health check passes"
stop
same_bytes
(( $(landed) == clips )) || fail "clips lost after the stop"

# 7. RUN_ONCE: one sync that exits, the camera named by a host name (the
# static binary resolves through /etc/hosts; the name is 127.0.0.1 only).
set +e
once=$(timeout 60 "${podman[@]}" run --rm --network host "${limits[@]}" \
  --add-host "dashcam.test:127.0.0.1" \
  -v "$work/recordings:/recordings" -v "$work/config:/config" \
  -e ADDRESS="dashcam.test:${camera#*:}" -e VIOFOSYNC_CAMERA_ID="$camera" \
  -e PUID=$puid -e PGID=$pgid -e RUN_ONCE=1 -e MAX_USED_DISK=100 -e VIOFOSYNC_LISTEN=off "$image" 2>&1)
rc=$?
set -e
[[ $rc == 0 && $once == *"synced 0 clips"* ]] || fail "RUN_ONCE: exit $rc, $once"
same_bytes
(( $(landed) == clips )) || fail "clips lost after RUN_ONCE"
note "RUN_ONCE: one sync of dashcam.test, exit 0"
echo "container: 1 passed, 0 failed"

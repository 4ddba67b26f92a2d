#!/usr/bin/env bash
# Builds the viofosync container image in one command: the static binary
# and the build context (scripts/build-static.sh), then the Containerfile,
# offline. Podman when installed, else Docker.
#
#   scripts/build-image.sh [TAG]       # default tag: viofosync:latest
#
# Extra `podman build` options: PODMAN_OPTS (e.g. "--runtime runc
# --cgroup-manager=cgroupfs" where podman needs them).
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-viofosync:latest}
context=$(scripts/build-static.sh | tail -n 1)
if command -v podman >/dev/null 2>&1; then
  # --format docker keeps the HEALTHCHECK (the OCI format has none).
  # shellcheck disable=SC2086
  podman ${PODMAN_OPTS:-} build --format docker --pull=never -f Containerfile -t "$tag" "$context" >&2
elif command -v docker >/dev/null 2>&1; then
  docker build -f Containerfile -t "$tag" "$context" >&2
else
  echo "error: neither podman nor docker is installed" >&2
  exit 1
fi
echo "$tag"

#!/usr/bin/env bash
# Installs the pinned Garage (an S3-compatible object store) for the object
# archive's tests (tests/reliability/tests/it/objectstore.rs), built from source
# once (about ten minutes here) and reused when present. Usage:
# .ci/garage.sh [DIR] (default $CARGO_TARGET_DIR/garage-<version>); the binary
# is DIR/bin/garage, which the tests find through $VIOFO_GARAGE or that path.
set -euo pipefail
GARAGE_VERSION=2.5.0
dir="${1:-${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}/garage-$GARAGE_VERSION}"
if [ -x "$dir/bin/garage" ]; then
  echo "Garage $GARAGE_VERSION already installed in $dir"
  exit 0
fi
# SQLite metadata (no LMDB), no other optional parts.
cargo install garage --version "$GARAGE_VERSION" --locked --no-default-features \
  --features bundled-libs,sqlite --root "$dir"
echo "Garage $GARAGE_VERSION installed in $dir"

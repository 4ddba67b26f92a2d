#!/usr/bin/env bash
# Builds the static viofosync binary (glibc, statically linked: one file, no
# runtime dependencies) and lays out the container image's build context
# beside it: the stripped binary, the host's CA certificates and time-zone
# data, and the image's empty folders. Prints the context's path last.
#
#   scripts/build-static.sh            # binary + context under $CARGO_TARGET_DIR
#   CONTEXT=/some/dir scripts/build-static.sh
#
# Honours CARGO_TARGET_DIR (default: target/ in the checkout), so a CI run
# that keeps it between runs rebuilds only what changed. The first release
# build takes several minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
triple=x86_64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
context=${CONTEXT:-$target_dir/container-context}

echo "== building the static binary ($triple, crt-static, release)" >&2
# --target keeps these flags off build scripts and proc macros (they stay
# dynamic host programs) and the artefacts apart from the debug builds.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked --target "$triple" -p viofosync >&2
bin="$target_dir/$triple/release/viofosync"

# Static or nothing: a dynamic section with NEEDED entries would need a libc
# that the image does not have.
if readelf -d "$bin" 2>/dev/null | grep -q NEEDED; then
  echo "error: $bin is dynamically linked:" >&2
  readelf -d "$bin" | grep NEEDED >&2
  exit 1
fi

rm -rf "$context"
mkdir -p "$context/rootfs/etc/ssl/certs" "$context/rootfs/usr/share" \
  "$context/rootfs/recordings" "$context/rootfs/config" "$context/rootfs/tmp"
strip -o "$context/viofosync" "$bin"
# Writable by whichever PUID/PGID the binary switches to (a named volume
# starts as a copy of these); a bind-mounted host folder keeps its own.
chmod 0777 "$context/rootfs/recordings" "$context/rootfs/config"
chmod 1777 "$context/rootfs/tmp"

# CA certificates (for an https:// camera address or a TLS MQTT broker
# behind a proxy) and the zones TZ may name; both from the build host, so
# the image build itself needs no network.
certs=${CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
zoneinfo=${ZONEINFO:-/usr/share/zoneinfo}
[[ -f $certs ]] || { echo "error: no CA bundle at $certs (apt-get install ca-certificates)" >&2; exit 1; }
[[ -f $zoneinfo/Europe/London ]] || { echo "error: no time-zone data at $zoneinfo (apt-get install tzdata)" >&2; exit 1; }
cp -L "$certs" "$context/rootfs/etc/ssl/certs/ca-certificates.crt"
# The zones themselves, without the duplicate posix/ and right/ trees.
cp -a "$zoneinfo" "$context/rootfs/usr/share/zoneinfo"
rm -rf "$context/rootfs/usr/share/zoneinfo/posix" "$context/rootfs/usr/share/zoneinfo/right" \
  "$context/rootfs/usr/share/zoneinfo/localtime"
echo "$context"

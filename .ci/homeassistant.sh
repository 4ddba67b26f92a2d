#!/usr/bin/env bash
# Installs the pinned Home Assistant (and its MQTT requirements) into a cached
# virtualenv for the real Home Assistant test (bins/viofosync/tests/
# homeassistant.rs); reused when present. Usage: .ci/homeassistant.sh [DIR]
# (default $VIOFOSYNC_HA_VENV, else $CARGO_TARGET_DIR/homeassistant-<version>).
set -euo pipefail
HA_VERSION=2024.3.3
dir="${1:-${VIOFOSYNC_HA_VENV:-${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")/.." && pwd)/target}/homeassistant-$HA_VERSION}}"
if [ -x "$dir/bin/hass" ] && [ -f "$dir/.installed" ]; then
  echo "Home Assistant $HA_VERSION already installed in $dir"
  exit 0
fi
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
"$py" - <<'PY'
import sys
# Home Assistant 2024.3 runs on Python 3.11 and 3.12 only.
sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else 1)
PY
rm -rf "$dir"
"$py" -m venv "$dir"
"$dir/bin/pip" install --quiet --upgrade pip wheel
# josepy 2 removed what acme (a dependency of 2024.3) imports; paho-mqtt is the
# MQTT integration's requirement, installed up front so Home Assistant never
# installs anything at run time (the test starts it with --skip-pip).
"$dir/bin/pip" install --quiet "homeassistant==$HA_VERSION" "josepy<2" "paho-mqtt==1.6.1"
# Home Assistant installs the requirements of the integrations it always
# loads (frontend, backup, …) at its first start: start it once here, on
# loopback, until its HTTP server answers, so that the test can start it
# with --skip-pip.
warm="$(mktemp -d)"
port="$("$dir/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'http:\n  server_host: 127.0.0.1\n  server_port: %s\n' "$port" > "$warm/configuration.yaml"
mkdir -p "$warm/.storage"
# An MQTT entry (no broker needed) so that its requirements come too.
cat > "$warm/.storage/core.config_entries" <<JSON
{"version":1,"minor_version":1,"key":"core.config_entries","data":{"entries":[{"entry_id":"warmup","version":1,"domain":"mqtt","title":"warm-up","data":{"broker":"127.0.0.1","port":1},"options":{},"source":"user","unique_id":null,"disabled_by":null}]}}
JSON
"$dir/bin/hass" -c "$warm" > "$warm/hass.out" 2>&1 &
hass=$!
ok=
for _ in $(seq 1 900); do
  if "$dir/bin/python" -c 'import sys,urllib.request,urllib.error
try: urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError: pass
' "http://127.0.0.1:$port/api/" 2>/dev/null; then ok=1; break; fi
  kill -0 "$hass" 2>/dev/null || break
  sleep 1
done
kill "$hass" 2>/dev/null || true
wait "$hass" 2>/dev/null || true
if [ -z "$ok" ]; then
  tail -n 40 "$warm/hass.out" >&2
  echo "Home Assistant did not start once in $warm" >&2
  exit 1
fi
rm -rf "$warm"
touch "$dir/.installed"
echo "Home Assistant $HA_VERSION installed in $dir"

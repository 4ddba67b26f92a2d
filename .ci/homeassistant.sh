#!/usr/bin/env bash
# Installs the pinned Home Assistant (and its MQTT requirements) into a cached
# virtualenv for crates/viofo-mqtt's real Home Assistant test; reused when present.
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
touch "$dir/.installed"
echo "Home Assistant $HA_VERSION installed in $dir"

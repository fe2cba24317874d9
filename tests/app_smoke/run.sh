#!/usr/bin/env bash
# The real app, as a person uses it: the built chom-desktop under Xvfb,
# driven through WebDriver (tauri-driver + WebKitWebDriver), against a data
# directory seeded by the chom CLI and a small lab fleet. Screenshots go to
# out/e2e/. Run inside scripts/with-keyring.sh (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=/var/cache/chom-e2e-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import selenium' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "selenium>=4.20,<5"
fi
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug"
mkdir -p out/e2e
xvfb-run -a -s "-screen 0 1280x800x24" "$VENV/bin/python" tests/app_smoke/journey.py "$BIN" out/e2e
# The app killed 20 times each mid-deploy, mid-setup and mid-probe, then
# racing two CLIs for one site (CHOM_APP_KILLS, CHOM_KILL_SEED).
xvfb-run -a -s "-screen 0 1280x800x24" "$VENV/bin/python" tests/app_smoke/kills.py "$BIN" out/e2e

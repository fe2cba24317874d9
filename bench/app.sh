#!/usr/bin/env bash
# App benchmark: 10,000 servers and 30 days of hourly probe history for 200
# of them in SQLite; the release app under Xvfb, driven by WebDriver.
# Prints launch-to-interactive time, filter-as-you-type latency and the
# resident memory of the app and its WebKit processes.
# Usage: bench/app.sh [SERVERS] (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CHOM_BENCH_IN_KEYRING:-}" ]; then
  scripts/install-deps.sh build gui
  CHOM_BENCH_IN_KEYRING=1 exec scripts/with-keyring.sh "$0" "$@"
fi
SERVERS=${1:-10000}
VENV=/var/cache/chom-e2e-venv
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import selenium' 2>/dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "selenium>=4.20,<5"
fi
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
npm --prefix ui ci --no-audit --no-fund --loglevel=error && npm --prefix ui run build --silent
cargo build --release --locked -q -p chom-desktop -p chom-bench
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
DATA=$(mktemp -d /tmp/chom-appbench-XXXXXX)
trap 'rm -rf "$DATA"' EXIT
"$BIN/chom-seed" --data-dir "$DATA" --servers "$SERVERS" --history-servers 200 --days 30
xvfb-run -a -s "-screen 0 1280x800x24" "$VENV/bin/python" bench/app_bench.py "$BIN/chom-desktop" "$DATA" "$SERVERS"

#!/usr/bin/env bash
# App benchmark: 10,000 servers and 30 days of hourly probe history for 200
# of them in SQLite; the release app under Xvfb, driven by WebDriver.
# Prints launch-to-interactive time, filter-as-you-type latency and the
# resident memory of the app and its WebKit processes.
# With JOBS and LOG_LINES set, the cache also holds that many finished jobs
# and log lines (the `chom jobs` timings are printed too).
# Usage: [JOBS=10000 LOG_LINES=1000000] bench/app.sh [SERVERS] (default 10000)
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
cargo build --release --locked -q -p chom-desktop -p chom-bench -p chom-cli
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
DATA=$(mktemp -d /tmp/chom-appbench-XXXXXX)
trap 'rm -rf "$DATA"' EXIT
"$BIN/chom-seed" --data-dir "$DATA" --servers "$SERVERS" --history-servers 200 --days 30 \
  --jobs "${JOBS:-0}" --log-lines "${LOG_LINES:-0}"
if [ "${JOBS:-0}" -gt 0 ]; then
  echo "CLI on this cache: median of 3 runs (wall s, cpu s, peak MiB, ok):"
  for args in "jobs" "jobs --limit 200" "jobs $((JOBS / 2))" "jobs --grep no-such-text"; do
    # shellcheck disable=SC2086
    echo "  chom $args: $(for _ in 1 2 3; do python3 bench/measure.py "$BIN/chom" --data-dir "$DATA" $args; done | python3 -c '
import json, sys
runs = sorted((json.loads(l) for l in sys.stdin), key=lambda r: r["wall_s"])
m = runs[1]
print(m["wall_s"], m["cpu_s"], m["peak_mib"], all(r["status"] == 0 for r in runs))')"
  done
fi
xvfb-run -a -s "-screen 0 1280x800x24" "$VENV/bin/python" bench/app_bench.py "$BIN/chom-desktop" "$DATA" "$SERVERS"

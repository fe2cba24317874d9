#!/usr/bin/env bash
# Builds the web UI and every binary (chom, chom-lab, chom-desktop).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f ui/package.json ]; then
  npm --prefix ui ci --no-audit --no-fund --loglevel=error
  npm --prefix ui run build --silent
fi
cargo build --workspace --locked

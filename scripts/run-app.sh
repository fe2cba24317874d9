#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (Rust and Node present) and launches the
# CHOM desktop app on its embedded SQLite default ($XDG_DATA_HOME/chom, or
# CHOM_DATA_DIR). Private keys go to your desktop's keyring (Secret Service).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build gui
scripts/build.sh
exec "${CARGO_TARGET_DIR:-target}/debug/chom-desktop" "$@"

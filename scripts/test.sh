#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (Rust and Node present) and runs every
# test: unit tests, journeys against the lab fleet (real sshd on 127.x.y.z,
# real OS keyring), and the app end to end under Xvfb.
# Needs root: the lab starts sshd and creates namespaces and a test user.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh: run as root (the lab fleet starts sshd processes and a test user)" >&2
  exit 2
fi

scripts/install-deps.sh build gui lab web ansible
# The inventory tests compare with Ansible itself (and fail in CI without it).
export CHOM_ANSIBLE_INVENTORY=/var/cache/chom-ansible-venv/bin/ansible-inventory
scripts/build.sh

echo "== cargo fmt --check, clippy -D warnings"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== shellcheck: the project's scripts and what runs on servers"
scripts/check-scripts.sh

echo "== UI type check"
npm --prefix ui run check

echo "== cargo test (workspace, in a D-Bus session with gnome-keyring)"
# A hung test fails the run here, loudly, instead of eating CI's limit: the
# whole suite takes under 5 minutes on a 2-core machine.
status=0
timeout --kill-after=30s 40m scripts/with-keyring.sh cargo test --workspace --locked -- --test-threads=4 || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "scripts/test.sh: cargo test still ran after 40 minutes: a test hangs (the last \"has been running for over 60 seconds\" above names it)" >&2
fi
[ "$status" -eq 0 ] || exit "$status"

if [ -x tests/app_smoke/run.sh ]; then
  echo "== app end to end (Xvfb + tauri-driver + WebKitWebDriver)"
  timeout --kill-after=30s 20m scripts/with-keyring.sh tests/app_smoke/run.sh || {
    status=$?
    [ "$status" -ne 124 ] || echo "scripts/test.sh: the app's end-to-end run still ran after 20 minutes" >&2
    exit "$status"
  }
fi

echo "== the .deb: built by the Tauri bundler, installed with apt, the installed app launched"
timeout --kill-after=30s 20m scripts/with-keyring.sh tests/package/installed.sh || {
  status=$?
  [ "$status" -ne 124 ] || echo "scripts/test.sh: packaging and the installed app's check still ran after 20 minutes" >&2
  exit "$status"
}

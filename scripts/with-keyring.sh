#!/usr/bin/env bash
# Runs a command inside its own D-Bus session with an unlocked gnome-keyring
# (the Secret Service), so the real OS keyring is used without touching the
# operator's own keyring. Usage: scripts/with-keyring.sh COMMAND [ARGS...]
# CHOM_KEYRING_HOME keeps the keyring in a folder of your choice (kept);
# otherwise a temporary one is used and removed afterwards.
set -euo pipefail
if [ -n "${CHOM_KEYRING_HOME:-}" ]; then
  home=$CHOM_KEYRING_HOME
else
  home=$(mktemp -d /tmp/chom-keyring-XXXXXX)
  trap 'rm -rf "$home"' EXIT
fi
# An empty password leaves no default collection; any fixed one unlocks it.
XDG_DATA_HOME="$home" dbus-run-session -- bash -c \
  'printf %s chom-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' \
  _ "$@"

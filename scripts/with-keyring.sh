#!/usr/bin/env bash
# Runs a command inside its own D-Bus session with an unlocked gnome-keyring
# (the Secret Service), so the real OS keyring is used without touching the
# operator's own keyring. Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
export XDG_DATA_HOME="${CHOM_KEYRING_HOME:-$(mktemp -d /tmp/chom-keyring-XXXXXX)}"
# An empty password leaves no default collection; any fixed one unlocks it.
exec dbus-run-session -- bash -c \
  'printf %s chom-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null; exec "$@"' \
  _ "$@"

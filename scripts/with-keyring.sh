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
  # In memory where there is a tmpfs: gnome-keyring writes (and syncs) its
  # file at every change, and a disk busy with builds and lab hosts once
  # kept it from answering within D-Bus's 25 s ("Did not receive a reply"),
  # failing a test's key generation.
  shm=/tmp
  [ -d /dev/shm ] && [ -w /dev/shm ] && shm=/dev/shm
  home=$(mktemp -d "$shm/chom-keyring-XXXXXX")
  trap 'rm -rf "$home"' EXIT
fi
start_keyring() {
  # An empty password leaves no default collection; any fixed one unlocks it.
# The command starts only once an item can be stored and read back, so its
# first keyring call never meets a daemon still setting up its collection.
# shellcheck disable=SC2016 # expanded by the inner bash
XDG_DATA_HOME="$home" CHOM_KEYRING_STARTED="$started" dbus-run-session -- bash -c '
  printf %s chom-test-keyring | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  for _ in $(seq 100); do
    if printf ok | secret-tool store --label=chom-ready chom-keyring ready 2>/dev/null &&
      [ "$(secret-tool lookup chom-keyring ready 2>/dev/null)" = ok ]; then
      secret-tool clear chom-keyring ready
      : >"$CHOM_KEYRING_STARTED"
      exec "$@"
    fi
    sleep 0.1
  done
  exit 75
' _ "$@"
}
# Now and then (a few times in a hundred here) the daemon comes up without
# the collection --unlock should have made, and asks for a prompt no one
# can answer: a new session with a new daemon is started then. The command
# itself only ever runs once, in a session whose keyring answered.
started=$(mktemp -u "${TMPDIR:-/tmp}/chom-keyring-started-XXXXXX")
for attempt in 1 2 3; do
  status=0
  start_keyring "$@" || status=$?
  if [ "$status" -ne 75 ] || [ -e "$started" ]; then
    rm -f "$started"
    exit "$status"
  fi
  echo "scripts/with-keyring.sh: gnome-keyring did not store and read back an item within 10 s (attempt $attempt of 3)" >&2
  # A temporary keyring starts over empty; a kept one is left as it is.
  [ -n "${CHOM_KEYRING_HOME:-}" ] || { rm -rf "$home" && mkdir -m 700 "$home"; }
done
exit 1

# The server's restic repository, for backup.sh and restore.sh (included
# after common.sh and layout.sh). One repository per server, in a folder
# only root can enter; its password reaches restic from a root-only file,
# never a command line or the environment of anything but restic.

dir=/var/backups/chom
repo=$dir/restic
pass=$dir/restic.pass
RESTIC_REPOSITORY=$repo
RESTIC_PASSWORD_FILE=$pass
RESTIC_CACHE_DIR=$dir/cache
export RESTIC_REPOSITORY RESTIC_PASSWORD_FILE RESTIC_CACHE_DIR

# Opens the repository with the password on stdin (after the token and
# holder lines); `create` makes it when the server has none yet. Leaves
# $work, a scratch folder in root's repository folder.
open_repo() {
  local given err
  command -v restic >/dev/null || fail "restic is not installed on this server: run chom server setup"
  IFS= read -r given || fail "internal: no repository password on stdin"
  case "$given" in *[!A-Za-z0-9]* | "") fail "internal: the repository password has unexpected characters" ;; esac
  step repository
  [ "$(stat -c '%F|%U' -- /var/backups 2>/dev/null)" = "directory|root" ] || fail "/var/backups is not a folder of root's"
  if [ ! -e "$dir" ] && [ ! -L "$dir" ]; then
    (umask 077 && mkdir -- "$dir")
  fi
  [ "$(stat -c '%F|%U|%a' -- "$dir")" = "directory|root|700" ] || fail "$dir is not root's own folder (mode 700): CHOM keeps its repository only there"
  work=$(mktemp -d "$dir/run.XXXXXX")
  if [ -f "$repo/config" ] || [ "$1" != create ]; then
    [ -f "$repo/config" ] || fail "no backups on this server yet"
    [ -f "$pass" ] && [ ! -L "$pass" ] || fail "$repo exists without its password file $pass: restore that file (it is in the OS keyring of the desktop that made it)"
    [ "$(cat -- "$pass")" = "$given" ] || fail "the repository $repo was made with another password than the one this desktop keeps (another desktop made it?): copy its password into this desktop's keyring, or move $repo aside"
    unchanged "repository $repo"
  else
    (umask 077 && printf '%s\n' "$given" >"$work/pass" && mv -f -- "$work/pass" "$pass")
    if ! err=$(restic init 2>&1 >/dev/null); then
      fail "restic init of $repo failed: $(printf '%s' "$err" | tail -2 | tr '\n' ' ')"
    fi
    changed "repository $repo created (restic $(restic version | cut -d' ' -f2))"
  fi
  # A lock left by a run that was killed (restic removes only stale ones);
  # only when there is a lock at all: each restic command costs a key
  # derivation.
  if [ -n "$(ls -A "$repo/locks" 2>/dev/null)" ]; then restic unlock >/dev/null 2>&1 || true; fi
}

# restic's summary line (--json --quiet prints nothing else on stdout), in
# file $2 or $work/out: its fields, by name.
field() { sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" "$work/summary" | tr -d '"' | head -1; }
summary() {
  local out=${2:-$work/out} err=${3:-$work/err}
  grep '^{"message_type":"summary"' "$out" | tail -1 >"$work/summary" || true
  [ -s "$work/summary" ] || fail "$1: restic reported no snapshot ($(tail -2 "$err" | tr '\n' ' '))"
  id=$(field snapshot_id)
  case "$id" in *[!0-9a-f]* | "") fail "$1: restic reported no snapshot id" ;; esac
}

# A snapshot id as CHOM recorded it: hex only.
want_snapshot() {
  case "$1" in *[!0-9a-f]* | "") fail "internal: a snapshot id is hex" ;; esac
}

# Loads dump $2 (its name in the snapshot) of snapshot $1 into a new,
# empty database $3 (dropped first); load_file loads SQL file $1 into $2.
# Either loads as a MariaDB user made for this load with rights on that
# database only: the dump is the site's own data, so nothing in it runs
# with root's rights (a DEFINER naming another account is refused by
# MariaDB). The user goes with the load, whatever happens.
load_dump() {
  want_snapshot "$1"
  make_loader "$3"
  { restic dump "$1" "/$2" 2>"$work/err"; echo $? >"$work/dump-status"; } | load_as_loader "$3" && st=0 || st=$?
  drop_loader
  [ "$(cat "$work/dump-status")" = 0 ] || fail "reading the dump of snapshot $1 failed: $(tail -2 "$work/err" | tr '\n' ' ')"
  [ "$st" -eq 0 ] || fail "the dump of snapshot $1 does not load into $3: $(tail -2 "$work/load-err" | tr '\n' ' ')"
}

load_file() {
  make_loader "$2"
  load_as_loader "$2" <"$1" && st=0 || st=$?
  drop_loader
  [ "$st" -eq 0 ] || fail "the dump $1 does not load into $2: $(tail -2 "$work/load-err" | tr '\n' ' ')"
}

make_loader() {
  local pw
  loader="chom_load_$$"
  pw=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32)
  sql "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" ||
    fail "cannot make the database $1"
  drop_loader
  # In a GRANT, `_` is a wildcard: escaped, the grant names $1 alone.
  sql "CREATE USER '$loader'@'localhost' IDENTIFIED BY '$pw';
       GRANT ALL PRIVILEGES ON \`$(printf '%s' "$1" | sed 's/_/\\_/g')\`.* TO '$loader'@'localhost';" ||
    { drop_loader; fail "cannot make the MariaDB user that loads the dump"; }
  (umask 077 && printf '[client]\nuser=%s\npassword=%s\n' "$loader" "$pw" >"$work/loader.cnf")
}

load_as_loader() { mysql --defaults-extra-file="$work/loader.cnf" --protocol=socket "$1" 2>"$work/load-err"; }

drop_loader() {
  sql "DROP USER IF EXISTS '$loader'@'localhost';" 2>/dev/null || true
  rm -f -- "$work/loader.cnf"
}

# Base tables of database $1, one per line (names CHOM can quote: others
# stop the caller).
base_tables() {
  sql "SELECT table_name FROM information_schema.tables WHERE table_schema = '$1' AND table_type = 'BASE TABLE' ORDER BY table_name;"
}

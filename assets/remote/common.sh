# Shared by every CHOM remote script. The Rust side (chom-core's
# web/script.rs) prepends `set -eu`, `umask 027` and the script's
# variables, each one shell-quoted, and sends this run's token as the
# first line of stdin.
#
# Threat model: anything a site's user can write is hostile (its code may
# be an attacker's). A root step here works only on paths whose every
# component root owns, or acts on the last one without following it;
# commands of the site run as its user, with a clean environment, in a
# session of their own that is ended with the step; and nothing they print
# can pass for a result: results carry the token, which only this shell
# has (it is never on a command line, never exported, never on their stdin).

IFS= read -r CHOM_TOKEN || { echo "chom: no run token on stdin" >&2; exit 97; }
case "$CHOM_TOKEN" in *[!0-9a-f]* | "") echo "chom: bad run token on stdin" >&2; exit 97 ;; esac
# Who runs this (job, user, desktop): said to another run that finds the site locked.
IFS= read -r CHOM_HOLDER || CHOM_HOLDER=""
# Root's own tools read no configuration of a site's: HOME is root's, and
# what the login brought is dropped.
HOME=/root
export HOME PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset CURL_HOME XDG_CONFIG_HOME GIT_DIR GIT_WORK_TREE GIT_CONFIG GIT_CONFIG_GLOBAL COMPOSER_HOME ENV BASH_ENV CDPATH \
  LD_PRELOAD LD_LIBRARY_PATH PYTHONPATH PERL5LIB 2>/dev/null || true

# One line per event, read by CHOM: "@@chom:TOKEN <event> <text>".
ev() { printf '@@chom:%s %s\n' "$CHOM_TOKEN" "$*"; }
step() { ev step "$*"; }
changed() { ev changed "$*"; }
unchanged() { ev unchanged "$*"; }
value() { ev value "$@"; }
fail() { ev error "$*"; exit 1; }

# A path CHOM would act on was changed into something it must not trust
# (a link, a hard link, another owner): the job stops here.
tampered() {
  value tampered "$1"
  fail "site tampered: $1 ($2); CHOM changed nothing more. Look at it as root on the server, then run chom site repair"
}

# A cancel (SIGTERM from CHOM, through sshd), a hangup, or a write to a
# connection that is gone (SIGPIPE) ends the script through its EXIT trap,
# which removes what it left half-made. (Commands it runs keep the default
# actions: a trap is not inherited.)
trap 'exit 143' HUP INT TERM
trap 'exit 141' PIPE
# An EXIT trap that cleans up calls this first: a second signal (a cancel's
# kill arriving after the lost connection's SIGPIPE) must not cut the
# cleanup short (commands it then runs inherit the ignore), and what runs
# as the site's user (in a session of its own, out of reach of a kill of
# this script's process group) ends with the script.
exiting() {
  trap '' HUP INT TERM PIPE
  if [ -n "$site_session" ]; then pkill -KILL -s "$site_session" 2>/dev/null || true; fi
}
site_session=""
# CHOM stops a cancelled script by this process group.
value pid $$

# Service control: systemctl where systemd runs, Debian's init scripts
# (`service`) otherwise. Both are real Debian paths.
svc() {
  if [ -d /run/systemd/system ]; then systemctl "$1" "$2"; else service "$2" "$1"; fi
}
svc_running() {
  if [ -d /run/systemd/system ]; then systemctl is-active --quiet "$1"; else service "$1" status >/dev/null 2>&1; fi
}
svc_enable() {
  if [ -d /run/systemd/system ]; then systemctl enable --quiet "$1"; fi
}

# Reloads sshd and returns once it listens with the new configuration. On
# SIGHUP sshd removes its pid file, re-executes itself, listens again and
# only then writes the pid file anew; the reload command returns before
# that, and a login made in between still meets the old configuration.
# Where the pid file is not to be seen (PidFile none, socket activation),
# a pause stands in for the wait.
reload_sshd() {
  local pidfile before _
  pidfile=$(sshd -T 2>/dev/null | awk '$1 == "pidfile" { print $2 }')
  before=$(date -r "$pidfile" +%s%N 2>/dev/null) || before=""
  svc reload ssh >/dev/null 2>&1 || return 1
  if [ -z "$before" ]; then sleep 1; return 0; fi
  for _ in $(seq 100); do
    if [ -f "$pidfile" ] && [ "$(date -r "$pidfile" +%s%N 2>/dev/null)" != "$before" ]; then return 0; fi
    sleep 0.1
  done
}

# Writes stdin to FILE (in a folder only root can write) only when it
# differs; says which. Returns 0 when the file changed. The old file is kept
# as FILE.chom-old for a rollback. The new file replaces the old by a
# rename: nothing is ever written through a link or into a hard link.
put_file() {
  local file=$1 mode=$2 tmp new
  # Compare first, outside FILE's folder: an unchanged file leaves even
  # the folder's mtime alone.
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$file" ] && [ ! -L "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  new=$(mktemp "$file.chom-new.XXXXXX")
  cat "$tmp" >"$new"
  rm -f "$tmp"
  chmod "$mode" "$new"
  rm -f "$file.chom-old"
  if [ -f "$file" ] && [ ! -L "$file" ]; then cp -p "$file" "$file.chom-old"; fi
  mv -f "$new" "$file"
  return 0
}

# Puts back what put_file replaced (or removes what it created).
restore_file() {
  local file=$1
  if [ -f "$file.chom-old" ]; then mv -f "$file.chom-old" "$file"; else rm -f "$file"; fi
}

# Checks nginx's whole configuration and reloads it. When the check fails,
# FILE goes back to its previous version (and LINK, if given, is removed)
# so the running nginx and the files on disk keep agreeing.
nginx_apply() {
  local err
  if ! err=$(nginx -t 2>&1); then
    restore_file "$1"
    [ -n "${2:-}" ] && rm -f "$2"
    fail "nginx -t rejected the new configuration, which was rolled back (nginx still runs the previous one): $(printf '%s' "$err" | grep -v 'test failed' | tail -2 | tr '\n' ' ')"
  fi
  nginx_reload || fail "nginx reload failed"
  rm -f "$1.chom-old"
}

# Reloads nginx and returns once the old configuration's workers are gone
# (they finish their requests first), so what this script changed is what
# nginx serves when CHOM reports it done. At most 5 s.
nginx_reload() {
  local master old pid n=0
  master=$(cat /run/nginx.pid 2>/dev/null || true)
  old=""
  if [ -n "$master" ]; then old=$(pgrep -P "$master" 2>/dev/null | tr '\n' ' ' || true); fi
  svc reload nginx >/dev/null 2>&1 || return 1
  for pid in $old; do
    while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 50 ]; do
      sleep 0.1
      n=$((n + 1))
    done
  done
}

# Same for a PHP-FPM pool file.
fpm_apply() {
  local err
  if ! err=$("php-fpm$PHP" -t 2>&1); then
    restore_file "$1"
    fail "php-fpm$PHP -t rejected the pool, which was rolled back: $(printf '%s' "$err" | tail -2 | tr '\n' ' ')"
  fi
  svc reload "php$PHP-fpm" >/dev/null 2>&1 || fail "php$PHP-fpm reload failed"
  rm -f "$1.chom-old"
}

# Runs a command as USER in folder DIR: no environment of root's (HOME is
# SITE_HOME, the site's own scratch folder), umask 027, stdin from
# /dev/null, none of this script's other descriptors (the lock's included),
# in a session of its own. Its output is passed on as plain log lines,
# each ended by a newline, so a partial line can never swallow an event,
# and bounded (10,000 lines, 8 MiB), so it can never crowd them out.
# Whatever the command started in its session is killed when it returns.
# Returns the command's exit status.
run_as() {
  local user=$1 dir=$2 log pid st relay n
  shift 2
  log=$(mktemp)
  setsid runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C HOME="$SITE_HOME" \
    COMPOSER_HOME="$SITE_HOME/.composer" sh -c 'umask 027; cd "$1" && shift && exec "$@"' chom-run "$dir" "$@" \
    </dev/null >"$log" 2>&1 9>&- &
  pid=$!
  site_session=$pid
  tail -q -s 0.2 -n +1 --pid="$pid" -f "$log" 2>/dev/null | head -c 8388608 |
    awk 'NR <= 10000 { print; fflush() } END { if (NR > 10000) print "[" NR - 10000 " more lines not shown]" }' &
  relay=$!
  # A beat every 2 s: once CHOM's connection is gone, the write ends this
  # script (SIGPIPE), and its EXIT trap the command, at once rather than
  # when the command ends by itself.
  n=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.2
    n=$((n + 1))
    if [ $((n % 10)) -eq 0 ]; then ev beat; fi
  done
  st=0
  wait "$pid" || st=$?
  wait "$relay" 2>/dev/null || true
  pkill -KILL -s "$pid" 2>/dev/null || true
  site_session=""
  rm -f "$log"
  return "$st"
}
as_site() { run_as "$SITE_USER" "$@"; }

# Long domains (up to 253 characters) need bigger server-name hash buckets
# than nginx's default (the CPU's cache line, 64 bytes). Set once, in
# conf.d, unless this server's configuration sets it already. Returns 0
# when it added the setting.
nginx_long_names() {
  local conf=/etc/nginx/conf.d/chom-server-names.conf
  [ -f "$conf" ] && return 1
  if nginx -T 2>/dev/null | grep -Eq '^[[:space:]]*server_names_hash_bucket_size'; then return 1; fi
  printf '%s\n' "# Added by CHOM: room for long domain names." "server_names_hash_bucket_size 256;" >"$conf"
}

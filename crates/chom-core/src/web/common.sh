# Shared by every CHOM remote script. The Rust side prepends `set -eu`,
# umask and the script's variables, each one shell-quoted.

# One line per event, read by CHOM as progress: "@@chom <event> <text>".
step() { echo "@@chom step $*"; }
changed() { echo "@@chom changed $*"; }
unchanged() { echo "@@chom unchanged $*"; }
fail() { echo "@@chom error $*"; exit 1; }
# A cancel (SIGTERM from CHOM, through sshd), a hangup, or a write to a
# connection that is gone (SIGPIPE) ends the script through its EXIT trap,
# which removes what it left half-made. (Commands it runs keep the default
# actions: a trap is not inherited.)
trap 'exit 143' HUP INT TERM
trap 'exit 141' PIPE
# An EXIT trap that cleans up calls this first: a second signal (a cancel's
# kill arriving after the lost connection's SIGPIPE) must not cut the
# cleanup short. Commands it then runs inherit the ignore.
hold_signals() { trap '' HUP INT TERM PIPE; }
# CHOM stops a cancelled script by this process group.
echo "@@chom value pid $$"

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

# Writes stdin to FILE only when it differs; says which. Returns 0 when the
# file changed. The old file is kept as FILE.chom-old for a rollback.
put_file() {
  local file=$1 mode=$2 tmp new
  # Compare first, outside FILE's folder: an unchanged file leaves even
  # the folder's mtime alone.
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  new=$(mktemp "$file.chom-new.XXXXXX")
  cat "$tmp" >"$new"
  rm -f "$tmp"
  chmod "$mode" "$new"
  rm -f "$file.chom-old"
  if [ -f "$file" ]; then cp -p "$file" "$file.chom-old"; fi
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

# Runs a command as the site's user.
as_site() { runuser -u "$SITE_USER" -- "$@"; }

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

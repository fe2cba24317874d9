# Releases and the switch between them, for deploy.sh and restore.sh
# (included after common.sh and layout.sh, run in $BASE). Variables:
# DOMAIN, BASE, PHP, RELEASE (a new release's id), HEALTH_PATH, HEALTH_TEXT;
# $rel is the release being made.

nl='
'
# Each file of root's in release DIR as "INODE SIZE MTIME PATH", found
# without following links or entering a folder that is not root's (the
# site's user may rename what is in its own); CHOM's own files and names
# with a newline (no manifest lists them) left out.
files_of() {
  (cd "$1" && find -P . \( -type d ! -user root -prune \) -o \( -type f -user root ! -path "*$nl*" \
    ! -path ./.chom-files ! -path ./.chom-manifest ! -path ./.chom-partial -printf '%i %s %T@ %P\n' \))
}

# Whether release DIR has a record of its files that only root could have
# written (a deploy's); a release restored from a backup has none.
recorded() {
  local st
  st=$(stat -c '%F|%U|%a|%h' -- "$1/.chom-files" 2>/dev/null) || return 1
  case "$st" in regular*file\|root\|[0-7][0145][0145]\|1) return 0 ;; *) return 1 ;; esac
}

# Drops from release DIR's record (.chom-files) every file no longer as
# recorded, so no deploy links it: only ever removes lines. Needs $work.
forget_changed() {
  [ -f "$1/.chom-files" ] || return 0
  files_of "$1" | awk -v recorded="$1/.chom-files" 'BEGIN { while ((getline l < recorded) > 0) was[l] = 1 } $0 in was' \
    >"$work/still"
  cat -- "$work/still" >"$1/.chom-files"
}

serving() {
  local cur
  cur=$(readlink current 2>/dev/null) || return 0
  printf '%s\n' "${cur#releases/}"
}

# The client's connection is gone if this shell lost its parent (sshd
# ended). Writing a step line to a closed channel also ends the script
# (SIGPIPE), so every step line is a check too. (The shell's name in
# /proc/PID/stat is "(sh)": no space to shift the fields.)
read -r _ _ _ parent _ <"/proc/$$/stat"
client_alive() {
  local now
  read -r _ _ _ now _ <"/proc/$$/stat"
  [ "$now" = "$parent" ]
}

switch_to() {
  ln -sfn "releases/$1" .current.chom-new
  mv -T .current.chom-new current
}

reload_php() {
  if [ -n "$PHP" ]; then svc reload "php$PHP-fpm" >/dev/null 2>&1 || fail "php$PHP-fpm reload failed (release $(serving) is live)"; fi
}

# $1: preview (the new release as `next`, which nginx serves only to a
# request from 127.0.0.1 with this site's preview token) or live.
health() {
  local url code n=0 body ask
  if [ "$1" = preview ]; then ask="@$BASE/.chom/preview-header"; else ask='X-Chom-Check: live'; fi
  body=${work:+$work/health-body}
  [ -n "$body" ] || body=$(mktemp)
  if grep -q "listen 443" "/etc/nginx/sites-available/chom-$DOMAIN.conf" 2>/dev/null; then
    url="https://$DOMAIN$HEALTH_PATH"
  else
    url="http://$DOMAIN$HEALTH_PATH"
  fi
  # nginx resolves `next` per request; retries cover a reload in flight.
  while :; do
    code=$(curl -q -s -k -o "$body" -w '%{http_code}' --max-time 20 --max-filesize 16777216 \
      --resolve "$DOMAIN:80:127.0.0.1" --resolve "$DOMAIN:443:127.0.0.1" -H "$ask" "$url" 9>&- || true)
    case "$code" in
      2?? | 3??)
        if [ -z "$HEALTH_TEXT" ] || grep -qF -- "$HEALTH_TEXT" "$body"; then
          [ -n "${work:-}" ] || rm -f "$body"
          value health "$code"
          return 0
        fi
        detail="HTTP $code without the expected text" ;;
      *) detail="HTTP ${code:-no answer} from $url" ;;
    esac
    n=$((n + 1))
    [ $n -ge 8 ] && break
    sleep 0.25
  done
  value health_body "$(head -c 300 "$body" | tr -c '[:print:]' ' ')"
  rm -f "$body"
  return 1
}

# When writing the release failed on a full disk, says so in words an
# operator can act on (the release is removed on exit, freeing its space).
disk_full() {
  avail=$(df -Pk "$BASE/releases" 2>/dev/null | awk 'NR==2 {print $4}')
  if [ -n "$avail" ] && [ "$avail" -lt 1024 ]; then
    fail "the server's disk is full ($avail KiB left for $BASE/releases) while $1; the half-written release was removed: free some space, then deploy again"
  fi
}

# A new, empty release folder only root can enter, marked half-made from
# its first moment (a rename puts it in place with its marker).
fresh_release() {
  local d="releases/.$RELEASE.new"
  rm -rf -- "$rel" "$d"
  mkdir -m 700 -- "$d"
  : >"$d/.chom-partial"
  mv -T -- "$d" "$rel"
}


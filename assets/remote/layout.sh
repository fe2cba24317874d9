# A site's folders, who owns them, and how root works in them. Included by
# site.sh and deploy.sh after common.sh. Variables: DOMAIN, BASE, SITE_USER,
# WEB_GROUP, KIND.
#
#   /var/www/DOMAIN/           root:WEB_GROUP 0750   nobody else can enter
#     .chom/                   root:root 0700        marker, lock, preview token
#     releases/R/              root:WEB_GROUP 0750   code: folders 0750, files 0640
#       bootstrap/cache/       SITE_USER 0750        (Laravel) what artisan caches
#     current, next            root's links          next only during a deploy's check
#     shared/                  root:WEB_GROUP 0750
#       .env, wp-config.php    root:SITE_USER 0640   the site's user reads; nginx does not
#       storage/, wp-content/uploads/
#                              SITE_USER:WEB_GROUP 2750   what the site's code writes
#     acme/                    root:WEB_GROUP 0750   certbot's HTTP-01 files
#     .build/                  root:SITE_USER 0750   during a build only
#
# SITE_USER runs the site's PHP-FPM pool; WEB_GROUP holds SITE_USER and
# nginx's user. Root changes only paths whose every folder root owns; in a
# folder the site's user can write, what must change is done as that user.

NGINX_USER=$(sed -n 's/^[[:space:]]*user[[:space:]]\{1,\}\([a-z_][a-z0-9_-]*\).*;.*/\1/p' /etc/nginx/nginx.conf 2>/dev/null | head -1)
NGINX_USER=${NGINX_USER:-www-data}
SITE_HOME=/nonexistent
# Layout generation, written into the vhost: a vhost without it predates
# this layout and is rewritten by the next deploy or repair.
LAYOUT_MARK="# chom-layout 2"

# Paths in shared/, linked into every release: the site's secrets (files)
# and what its code writes (folders).
secret_files() {
  case "$KIND" in
    laravel) echo .env ;;
    wordpress) echo wp-config.php ;;
  esac
}
writable_dirs() {
  case "$KIND" in
    laravel) echo storage ;;
    wordpress) echo wp-content/uploads ;;
  esac
}
# Inside a release, what the site's code writes there (it is per release):
# Laravel's caches; for WordPress, only when the operator turned on updates
# from its dashboard (DASHBOARD_UPDATES=1), its plugins, themes and upgrade/.
release_writable() {
  case "$KIND" in
    laravel) echo bootstrap/cache ;;
    wordpress) [ "${DASHBOARD_UPDATES:-0}" != 1 ] || echo wp-content/plugins wp-content/themes wp-content/upgrade ;;
  esac
}
dashboard_dirs() { echo wp-content/plugins wp-content/themes wp-content/upgrade; }
# What the site's user may write, in words.
user_writes() {
  local w
  w="$(writable_dirs) $(release_writable)"
  w=${w# }
  w=${w% }
  echo "${w:-nothing of its folders}"
}
# Folders the site's code expects in its writable ones (made as its user).
writable_tree() {
  case "$KIND" in
    laravel) echo storage/app/public storage/framework/cache/data storage/framework/sessions storage/framework/views storage/logs ;;
  esac
}

# What want_dir and want_file read of a path itself (lstat). These checks
# run dozens of times per job: one stat each, taken apart by the shell
# rather than by more processes.
LSTAT='%F|%U|%G|%a|%h'

# PATH must be a folder (not a link) of OWNER and GROUP that no one else
# can write; anything else is tampering.
want_dir() {
  local st mode
  st=$(stat -c "$LSTAT" -- "$1" 2>/dev/null) || st=missing
  case "$st" in
    missing) tampered "$1" "missing" ;;
    symbolic\ link*) tampered "$1" "a link to $(readlink -- "$1") where a folder should be" ;;
    directory\|"$2"\|"$3"\|*) ;;
    directory*) tampered "$1" "a folder of $(echo "$st" | cut -d'|' -f2-3 | tr '|' :), not $2:$3" ;;
    *) tampered "$1" "a ${st%%|*} where a folder should be" ;;
  esac
  mode=${st#*|*|*|}
  case "${mode%|*}" in
    *[2367]?|*[2367]) [ "$2" = root ] && tampered "$1" "writable by its group or by anyone" ;;
  esac
  return 0
}

# The site's database, as MariaDB's root: SQL goes to mysql on stdin, so a
# password in it never shows in ps.
sql() { printf '%s\n' "$1" | mysql --protocol=socket -uroot -N; }

# PATH must be a regular file of OWNER:GROUP with one name (a second hard
# link could be a file anywhere else on the disk).
want_file() {
  local st
  st=$(stat -c "$LSTAT" -- "$1" 2>/dev/null) || st=missing
  case "$st" in
    regular*file\|"$2"\|"$3"\|*\|1) ;;
    regular*file\|"$2"\|"$3"\|*) tampered "$1" "a file with ${st##*|} hard links" ;;
    symbolic\ link*) tampered "$1" "a link to $(readlink -- "$1") where a file should be" ;;
    missing) tampered "$1" "missing" ;;
    *) tampered "$1" "$(echo "$st" | cut -d'|' -f1-3 | tr '|' :), expected a file of $2:$3" ;;
  esac
}

# The site's user, its group and nginx's membership; their names are
# unique per domain, so another account of the same name is refused.
ensure_accounts() {
  if ! getent group "$WEB_GROUP" >/dev/null; then
    groupadd --system "$WEB_GROUP"
    made_group=1
  fi
  for u in "$SITE_USER" "$NGINX_USER"; do
    case " $(id -nG "$u") " in
      *" $WEB_GROUP "*) ;;
      *) usermod -a -G "$WEB_GROUP" "$u"; groups_changed=1 ;;
    esac
  done
}

# The token a deploy's health check sends to reach `next`: root's only,
# never on a command line (curl reads it from a file).
ensure_preview_token() {
  local t="$BASE/.chom/preview" h="$BASE/.chom/preview-header" token=""
  if [ ! -f "$t" ] || [ -L "$t" ]; then
    rm -f "$t"
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$t.new"
    chmod 600 "$t.new"
    mv -f "$t.new" "$t"
  fi
  # The token has no newline: read takes it and says it met the end.
  read -r token <"$t" || :
  if [ ! -f "$h" ] || [ -L "$h" ]; then
    rm -f "$h"
    : >"$h"
    chmod 600 "$h"
  fi
  printf 'X-Chom-Preview: %s\n' "$token" >"$h"
}

# Writes VHOST (from CHOM, with the preview token's placeholder) as the
# site's nginx config, root's only (it holds the token). Returns 0 when it
# changed.
put_vhost() {
  printf '%s\n%s' "$LAYOUT_MARK" "$VHOST" | sed "s/@@CHOM_PREVIEW@@/$(cat "$BASE/.chom/preview")/" |
    put_file "/etc/nginx/sites-available/chom-$DOMAIN.conf" 600
}
vhost_current() { grep -qxF "$LAYOUT_MARK" "/etc/nginx/sites-available/chom-$DOMAIN.conf" 2>/dev/null; }

# Checks a site in this layout. Returns 1 for the layout before it (a base
# of the site's user's), which convert_layout brings over; anything that
# fits neither is tampering.
check_layout() {
  want_dir /var/www root root
  [ -L "$BASE" ] && tampered "$BASE" "a link to $(readlink -- "$BASE")"
  [ "$(stat -c %U -- "$BASE")" = root ] || return 1
  want_dir "$BASE" root "$WEB_GROUP"
  want_dir "$BASE/.chom" root root
  want_file "$BASE/.chom/site" root root
  want_dir "$BASE/releases" root "$WEB_GROUP"
  want_dir "$BASE/shared" root "$WEB_GROUP"
  check_shared
}

check_shared() {
  local p d
  for p in $(secret_files); do [ -e "$BASE/shared/$p" ] || [ -L "$BASE/shared/$p" ] && want_file "$BASE/shared/$p" root "$SITE_USER"; done
  for p in $(writable_dirs); do
    d=$(dirname "$p")
    [ "$d" = . ] || want_dir "$BASE/shared/$d" root "$WEB_GROUP"
    if [ -e "$BASE/shared/$p" ] || [ -L "$BASE/shared/$p" ]; then want_dir "$BASE/shared/$p" "$SITE_USER" "$WEB_GROUP"; fi
  done
  return 0
}

# Changes to a site (deploy, rollback, repair, certificate) run one at a time: the lock is held by
# this process (never by what it starts: they get no descriptor 9), so it
# is released however the process ends.
lock() {
  want_dir "$BASE/.chom" root root
  [ -e "$BASE/.chom/lock" ] && want_file "$BASE/.chom/lock" root root
  exec 9>"$BASE/.chom/lock"
  if ! flock -n 9; then
    holder=$(head -c 300 "$BASE/.chom/holder" 2>/dev/null | tr -c '[:print:]' ' ')
    value locked 1
    value holder "${holder:-another CHOM}"
    fail "another change of $DOMAIN holds its lock: ${holder:-another CHOM}"
  fi
  holding_lock=1
  printf '%s, since %s\n' "${CHOM_HOLDER:-a CHOM job}" "$(date -u '+%F %T UTC')" >"$BASE/.chom/holder"
}
holding_lock=""

# The site in this layout (a site of the layout before is converted, and
# what looks tampered stops here), with its accounts and vhost current.
ensure_layout() {
  made_group="" groups_changed=""
  if check_layout; then
    ensure_accounts
  else
    # Look before changing anything, accounts included.
    precheck_old
    ensure_accounts
    if [ -n "$groups_changed" ]; then
      # Workers started before the new group would not get in once the base is root's.
      svc reload nginx >/dev/null 2>&1 || true
      [ -z "$PHP" ] || svc reload "php$PHP-fpm" >/dev/null 2>&1 || true
    fi
    convert_layout
  fi
  ensure_preview_token
  if [ -n "${VHOST:-}" ] && ! vhost_current; then
    if put_vhost; then nginx_apply "/etc/nginx/sites-available/chom-$DOMAIN.conf"; fi
    changed "nginx config of $DOMAIN rewritten for the new layout"
  fi
}

# Makes the top of a folder the site writes (shared/P, parents root's).
make_writable_dir() {
  local d=$1
  if [ ! -e "$d" ] && [ ! -L "$d" ]; then mkdir -m 2750 -- "$d"; fi
  want_dir "$d" "$(stat -c %U -- "$d")" "$(stat -c %G -- "$d")"
  chown -h "$SITE_USER:$WEB_GROUP" -- "$d"
  chmod 2750 -- "$d"
}

# The site's own folders inside its writable ones, made as its user.
make_writable_tree() {
  local t
  t=$(writable_tree)
  [ -n "$t" ] || return 0
  # shellcheck disable=SC2086
  as_site "$BASE/shared" mkdir -p -- $t
}

# Unpacks the tar stream on stdin into DIR, a folder only root can enter,
# as data: owners are root's, permissions are set by seal_tree. GNU tar
# refuses members with `..` and holds back links that point out of the
# tree until the end, so nothing is written through them.
unpack_into() {
  local dir=$1
  shift
  tar -x -C "$dir" --no-same-owner --no-same-permissions "$@" -f -
}

# Makes a release root unpacked root's in full: only files, folders and
# links (a device or a fifo is refused), every entry root:WEB_GROUP,
# folders 0750, files 0640 (0750 when executable). It stays closed (0700)
# until open_release.
# With `site`, the tree is what the site's user made (a build's result):
# its links stay the user's, so nginx, which follows a link only to what
# the link's owner owns, never serves a root file through one of them.
seal_tree() {
  local odd
  odd=$(find -P "$1" ! -type f ! -type d ! -type l -print -quit)
  [ -z "$odd" ] || fail "the release holds a $(stat -c %F -- "$odd") (${odd#"$1"/}); CHOM deploys only files, folders and links"
  chown -R -h "root:$WEB_GROUP" -- "$1"
  if [ "${2:-}" = site ]; then find -P "$1" -type l -exec chown -h "$SITE_USER:$SITE_USER" {} +; fi
  # One walk; what has its mode already (a file linked from the last
  # release) is left as it is.
  find -P "$1" \( -type d ! -perm 750 -exec chmod 750 {} + \) -o \
    \( -type f -perm /111 ! -perm 750 -exec chmod 750 {} + \) -o \
    \( -type f ! -perm /111 ! -perm 640 -exec chmod 640 {} + \)
  chmod 700 -- "$1"
}

# Gives a folder root prepared in private (nobody else could enter it) to
# the site's user: children first, the top last, so the user gets in only
# once nothing is left for root to do inside. The top stays root's,
# readable by the site's group.
hand_over() {
  find -P "$1" -mindepth 1 -depth -exec chown -h "$SITE_USER:$SITE_USER" {} +
  chgrp -h "$SITE_USER" -- "$1"
  chmod 750 -- "$1"
}

# Gives a tree of root's, in a folder of root's, to the site's user:
# bottom-up, so the user gets into a folder only once root is done in it.
# A file a deploy shares with other releases (a hard link) first gets a
# copy of its own: the user must not reach another release through it.
give_tree() {
  find -P "$1" -type f -links +1 -exec sh -c 'for f; do cp -p -- "$f" "$f.chom-copy-$$" && mv -f -- "$f.chom-copy-$$" "$f"; done' sh {} +
  find -P "$1" -depth -exec chown -h "$SITE_USER:$SITE_USER" {} +
}

# Takes back a folder the site's user wrote (inside a release, so its
# parent is root's): the user packs it, root unpacks it as data into a
# new folder, which replaces it. Needs $work.
take_back_tree() {
  local d=$1 new="$1.chom-new"
  [ "$(stat -c %U -- "$d")" != root ] || return 0
  want_dir "$d" "$SITE_USER" "$(stat -c %G -- "$d")"
  rm -rf -- "$new"
  mkdir -m 700 -- "$new"
  site_pack "$d" | unpack_into "$new" || fail "taking back $d failed"
  [ "$(cat "$work/pack.status")" = 0 ] || fail "packing $d as $SITE_USER failed (tar's messages are above)"
  seal_tree "$new" site
  chmod 750 -- "$new"
  rm -rf -- "$d"
  mv -T -- "$new" "$d"
}

# Runs a command as the site's user, without root's environment or this
# script's other descriptors, in a session of its own that is killed when
# it returns; its stdin is descriptor 3, which the caller opens (/dev/null,
# or a stream: an asynchronous command's own stdin is /dev/null).
site_run() {
  local pid st=0
  setsid runuser -u "$SITE_USER" -- env -i PATH=/usr/bin:/bin LC_ALL=C "$@" <&3 3<&- 9>&- &
  pid=$!
  site_session=$pid
  wait "$pid" || st=$?
  pkill -KILL -s "$pid" 2>/dev/null || true
  site_session=""
  return "$st"
}

# The site's user writes folder DIR as a tar stream on stdout (root never
# reads the site's files itself); its exit status goes to $work/pack.status.
site_pack() {
  local st=0
  site_run tar -C "$1" -cf - . 3</dev/null || st=$?
  echo "$st" >"$work/pack.status"
}

# The site's user writes file FILE on stdout.
site_cat() { site_run cat -- "$1" 3</dev/null; }

# Links an open release (REL, relative to BASE) to shared/; the first
# release seeds a shared path that is not there yet. Secrets are copied
# into files of root's that the site's user reads; writable folders are
# the user's, and the user copies the release's files into them.
link_shared() {
  local rel=$1 p d
  for p in $(secret_files) $(writable_dirs) $(release_writable) public/storage; do no_link_above "$rel" "$p"; done
  for p in $(secret_files); do
    if [ ! -e "shared/$p" ] && [ -f "$rel/$p" ] && [ ! -L "$rel/$p" ]; then
      install -m 640 -o root -g "$SITE_USER" -- "$rel/$p" "shared/$p"
    fi
    rm -rf -- "${rel:?}/$p"
    ln -s "$BASE/shared/$p" "$rel/$p"
  done
  for p in $(writable_dirs); do
    d=$(dirname "$p")
    if [ "$d" != . ] && [ ! -e "shared/$d" ]; then install -d -m 750 -o root -g "$WEB_GROUP" "shared/$d"; fi
    [ "$d" = . ] || want_dir "shared/$d" root "$WEB_GROUP"
    if [ ! -e "shared/$p" ] && [ ! -L "shared/$p" ]; then
      make_writable_dir "shared/$p"
      if [ -d "$rel/$p" ] && [ ! -L "$rel/$p" ]; then
        as_site "$BASE/$rel/$p" cp -R -- . "$BASE/shared/$p/" || fail "copying $p into shared/ as $SITE_USER failed"
      fi
    fi
    want_dir "shared/$p" "$SITE_USER" "$WEB_GROUP"
    rm -rf -- "${rel:?}/$p"
    [ -d "$(dirname "$rel/$p")" ] || install -d -m 750 -o root -g "$WEB_GROUP" -- "$(dirname "$rel/$p")"
    ln -s "$BASE/shared/$p" "$rel/$p"
    # nginx follows a link only to what the link's owner owns.
    chown -h "$SITE_USER:$WEB_GROUP" -- "$rel/$p"
  done
  make_writable_tree
  for p in $(release_writable); do
    if [ -L "$rel/$p" ] || { [ -e "$rel/$p" ] && [ ! -d "$rel/$p" ]; }; then
      rm -rf -- "${rel:?}/$p"
    fi
    [ -d "$(dirname "$rel/$p")" ] || install -d -m 750 -o root -g "$WEB_GROUP" -- "$(dirname "$rel/$p")"
    [ -d "$rel/$p" ] || mkdir -- "$rel/$p"
    give_tree "$rel/$p"
  done
  if [ "$KIND" = laravel ] && [ -d "$rel/public" ] && [ ! -e "$rel/public/storage" ] && [ ! -L "$rel/public/storage" ]; then
    # What `artisan storage:link` makes, made by root.
    ln -s "$BASE/shared/storage/app/public" "$rel/public/storage"
    chown -h "$SITE_USER:$WEB_GROUP" -- "$rel/public/storage"
  fi
  return 0
}

# No folder between REL and its path P is a link: root makes links and
# folders at P, and must not make them where such a link points.
no_link_above() {
  local d=$1 rest=$2
  while [ "${rest#*/}" != "$rest" ]; do
    d="$d/${rest%%/*}"
    rest=${rest#*/}
    if [ -L "$d" ]; then
      fail "the release's ${d#"$1"/} is a link (to $(readlink -- "$d")); CHOM needs a folder there for ${2}"
    fi
  done
}

# Opens a sealed release to the site's group (its PHP, and nginx).
open_release() { chmod 750 -- "$1"; }

# Brings a site of the layout before (base, releases and shared/ of the
# site's user) to this one. It looks first and stops at anything CHOM did
# not make (a link where a folder was, a file with a second hard link);
# then it makes the base root's, so the user can no longer add or rename
# anything in it, looks again, and takes each release and secret in as
# data: the user packs them, root unpacks them into new folders of its own.
convert_layout() {
  local p r d cur
  step repair
  for p in "$BASE" "$BASE/releases" "$BASE/shared" "$BASE/.chom"; do
    [ -L "$p" ] && tampered "$p" "a link to $(readlink -- "$p") where a folder should be"
    [ -d "$p" ] || tampered "$p" "missing or not a folder"
  done
  precheck_old
  chown -h "root:$WEB_GROUP" -- "$BASE"
  chmod 750 -- "$BASE"
  precheck_old
  want_dir "$BASE/.chom" root root
  for d in releases shared; do
    chown -h "root:$WEB_GROUP" -- "$BASE/$d"
    chmod 750 -- "$BASE/$d"
  done
  rm -rf -- "$BASE/acme" "$BASE/.composer" "$BASE/next"
  install -d -m 750 -o root -g "$WEB_GROUP" "$BASE/acme"
  cur=$(readlink "$BASE/current" 2>/dev/null || true)
  if [ -n "$cur" ]; then
    ln -sfn "$cur" "$BASE/.current.chom-new"
    mv -T -- "$BASE/.current.chom-new" "$BASE/current"
  fi
  for p in $(secret_files); do
    [ -e "$BASE/shared/$p" ] || continue
    [ "$(stat -c %U -- "$BASE/shared/$p")" = root ] && continue
    site_cat "$BASE/shared/$p" >"$BASE/shared/.$p.new" || fail "reading shared/$p as $SITE_USER failed"
    chown root:"$SITE_USER" -- "$BASE/shared/.$p.new"
    chmod 640 -- "$BASE/shared/.$p.new"
    mv -f -- "$BASE/shared/.$p.new" "$BASE/shared/$p"
  done
  for p in $(writable_dirs); do
    d=$(dirname "$p")
    if [ "$d" != . ] && [ -d "$BASE/shared/$d" ]; then
      chown -h "root:$WEB_GROUP" -- "$BASE/shared/$d"
      chmod 750 -- "$BASE/shared/$d"
    fi
    [ -d "$BASE/shared/$p" ] && make_writable_dir "$BASE/shared/$p"
  done
  for p in "$BASE"/releases/* "$BASE"/releases/.[!.]*; do
    [ -e "$p" ] || continue
    r=${p##*/}
    case "$r" in .*) rm -rf -- "$p"; continue ;; esac
    [ "$(stat -c %U -- "$p")" = root ] && continue
    d="$BASE/releases/.$r.new"
    rm -rf -- "$d"
    mkdir -m 700 -- "$d"
    work=${work:-$(mktemp -d)}
    site_pack "$p" | unpack_into "$d" || fail "taking in release $r failed"
    [ "$(cat "$work/pack.status")" = 0 ] || fail "packing release $r as $SITE_USER failed (tar's messages are above)"
    seal_tree "$d" site
    open_release "$d"
    (cd "$BASE" && link_shared "releases/.$r.new")
    rm -rf -- "$p"
    mv -T -- "$d" "$p"
  done
  check_layout || tampered "$BASE" "still not root's after the repair"
  changed "$DOMAIN brought to CHOM's layout: its base, releases and secrets are root's; its user writes only $(user_writes)"
}

# What a site's user could have planted in the layout before: a link or a
# file of another kind where CHOM keeps a folder, a file, or a link.
precheck_old() {
  local p r d q t
  for p in releases shared .chom; do
    [ -L "$BASE/$p" ] && tampered "$BASE/$p" "a link to $(readlink -- "$BASE/$p") where a folder should be"
    [ -d "$BASE/$p" ] || tampered "$BASE/$p" "missing or not a folder"
  done
  for p in current next; do
    if [ -e "$BASE/$p" ] || [ -L "$BASE/$p" ]; then
      [ -L "$BASE/$p" ] || tampered "$BASE/$p" "not a link"
      t=$(readlink -- "$BASE/$p")
      case "${t#releases/}" in
        "$t" | *[!0-9a-z-]* | "") tampered "$BASE/$p" "a link to $t, not to one of the site's releases" ;;
      esac
    fi
  done
  for p in "$BASE"/releases/* "$BASE"/releases/.[!.]*; do
    [ -e "$p" ] || [ -L "$p" ] || continue
    [ -L "$p" ] && tampered "$p" "a link to $(readlink -- "$p") where a release should be"
    [ -d "$p" ] || tampered "$p" "not a folder"
    case "${p##*/}" in .* | *[!0-9a-z-]*) tampered "$p" "not a name CHOM gives a release" ;; esac
  done
  for p in $(secret_files); do
    [ -e "$BASE/shared/$p" ] || [ -L "$BASE/shared/$p" ] || continue
    want_file "$BASE/shared/$p" "$(stat -c %U -- "$BASE/shared/$p")" "$(stat -c %G -- "$BASE/shared/$p")"
  done
  for p in $(writable_dirs); do
    d=$(dirname "$p")
    for q in "$d" "$p"; do
      [ "$q" = . ] && continue
      [ -L "$BASE/shared/$q" ] && tampered "$BASE/shared/$q" "a link to $(readlink -- "$BASE/shared/$q") where a folder should be"
      [ ! -e "$BASE/shared/$q" ] || [ -d "$BASE/shared/$q" ] || tampered "$BASE/shared/$q" "not a folder"
    done
  done
  return 0
}

# chom backup restore | undo for one site, after layout.sh, release.sh and
# restic.sh. Variables (besides layout.sh's): ACTION (restore | undo),
# PARTS (site: release, shared/ and database | database), BACKUP_ID,
# SOURCE (restic: FILES_SNAPSHOT, DB_SNAPSHOT, SOURCE_BASE and
# SOURCE_RELEASE, where the backed-up site lived and its live release then,
# SOURCE_DOMAIN, the dump's name | files: FILES_DIR, what backup.sh's
# export made, uploaded here), NEW_SITE (1: not the backed-up site; its
# own secrets stay, WordPress's address becomes SITE_URL), RELEASE (the
# restored release's new id), HEALTH_PATH, HEALTH_TEXT. stdin, after the
# token and holder lines: the repository's password (SOURCE=restic).
#
# A restore builds the backed-up state beside the live one, in
# .chom/alt/ (root's, 0700): a new release (sealed like any), a shared/
# of normalized owners, the dump loaded into database chom_undo_SITE_USER.
# The new release must pass its health check as `next`; then the two states
# are swapped (tables by one RENAME TABLE, shared/ by renames, the release
# by the `current` link) and checked live; a failed check swaps them back.
# After a swap, .chom/alt/ holds what was live before: undo swaps again.
#
# The backup's files are the site's own (hostile) data: restic writes them
# into root's private folder, where nothing of the site's can reach; they
# are normalized (owners, modes, no devices or fifos; links are kept as
# links, owned by the site's user, whom nginx follows only to its own
# files) before they can be entered. The dump loads as a MariaDB user with
# rights on the new database alone.

[ -f "$BASE/.chom/site" ] || fail "$DOMAIN is not a CHOM site on this server (no $BASE/.chom/site)"
cd "$BASE"
alt=.chom/alt
stage=.chom/restore
undo_db="chom_undo_$SITE_USER"
work="" rel="" made_alt="" swapped="" db_pid=""
trap 'exiting; cleanup' EXIT
cleanup() {
  # A load still running finishes first: it drops its MariaDB user at its
  # end, and its database goes with the rest below.
  if [ -n "$db_pid" ]; then wait "$db_pid" 2>/dev/null || true; fi
  [ -n "$work" ] && rm -rf -- "$work"
  # Files uploaded or exported for this restore are used once.
  if [ "$ACTION" = restore ] && [ "$SOURCE" = files ]; then
    case "$FILES_DIR" in "$dir"/import/[0-9]* | "$dir"/export/[0-9]*) rm -rf -- "$FILES_DIR" ;; esac
  fi
  rm -rf -- "$stage"
  if [ -n "$rel" ] && [ -f "$rel/.chom-partial" ]; then rm -rf -- "$rel"; fi
  # A restore that did not go live leaves no state to undo into.
  if [ -n "$made_alt" ] && [ -z "$swapped" ]; then drop_alt; fi
  return 0
}

drop_alt() {
  rm -rf -- "$alt"
  if [ -n "$PHP" ]; then sql "DROP DATABASE IF EXISTS \`$undo_db\`;" 2>/dev/null || true; fi
}

# Database $1 holds only tables whose names CHOM can quote: views,
# triggers, routines and events do not move between databases with RENAME
# TABLE, so a database with them is not swapped.
want_swappable() {
  local n odd
  n=$(sql "SELECT (SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$1' AND table_type <> 'BASE TABLE')
    + (SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = '$1')
    + (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = '$1')
    + (SELECT COUNT(*) FROM information_schema.events WHERE event_schema = '$1');")
  [ "$n" = 0 ] || fail "database $1 has views, triggers, routines or events; CHOM restores databases of tables only, so nothing was changed"
  odd=$(base_tables "$1" | grep -vx '[A-Za-z0-9_$]*' | head -1 || true)
  [ -z "$odd" ] || fail "database $1 has a table named $(printf '%s' "$odd" | tr -c '[:print:]' '?'), which CHOM does not quote; nothing was changed"
}

# The site's tables and those of $undo_db change places in one RENAME
# TABLE (atomic: all of them or none).
swap_db() {
  local tmp="chom_swap_$SITE_USER" live_tables alt_tables t stmt=""
  # The site's user names its tables: checked here, whoever calls (a
  # restore checked them before its load, an undo or a recovery did not).
  want_swappable "$SITE_USER"
  want_swappable "$undo_db"
  live_tables=$(base_tables "$SITE_USER")
  alt_tables=$(base_tables "$undo_db")
  sql "DROP DATABASE IF EXISTS \`$tmp\`; CREATE DATABASE \`$tmp\`;"
  for t in $live_tables; do stmt="$stmt, \`$SITE_USER\`.\`$t\` TO \`$tmp\`.\`$t\`"; done
  for t in $alt_tables; do stmt="$stmt, \`$undo_db\`.\`$t\` TO \`$SITE_USER\`.\`$t\`"; done
  for t in $live_tables; do stmt="$stmt, \`$tmp\`.\`$t\` TO \`$undo_db\`.\`$t\`"; done
  if [ -n "$stmt" ]; then sql "RENAME TABLE ${stmt#, };" || fail "swapping the tables of $SITE_USER failed (MariaDB changed none)"; fi
  sql "DROP DATABASE \`$tmp\`;"
}

# shared/ and $alt/shared change places: three renames, each one atomic;
# the journal has shared/'s inode, so recover_swap can tell from what is
# on disk how far a cut-off swap came.
swap_shared() {
  printf 'shared %s\n' "$(stat -c %i shared)" >>"$alt/swapping"
  mv -T -- shared "$alt/shared.out"
  mv -T -- "$alt/shared" shared
  mv -T -- "$alt/shared.out" "$alt/shared"
}

# The live state and the one in $alt change places, part by part, with
# every signal ignored and nothing written to the connection until done:
# only a kill -9 or a crash can cut it short, and recover_swap finishes
# that from the journal ($alt/swapping) and what is on disk.
swap() {
  local part other was
  trap '' HUP INT TERM PIPE
  printf 'was %s\n' "$(serving)" >"$alt/swapping"
  for part in $(cat "$alt/parts"); do
    case "$part" in
      db) swap_db ;;
      shared) swap_shared ;;
      release)
        other=$(cat "$alt/release")
        was=$(serving)
        switch_to "$other"
        printf '%s\n' "$was" >"$alt/release"
        ;;
    esac
    printf 'done %s\n' "$part" >>"$alt/swapping"
  done
  serving >"$alt/live"
  rm -f -- "$alt/swapping"
  trap 'exit 143' HUP INT TERM
  trap 'exit 141' PIPE
}

# A swap cut off by a kill -9 or a crash: every part it swapped is swapped
# back, so the site is as it was before that restore or undo.
recover_swap() {
  local was part inode
  [ -f "$alt/swapping" ] || return 0
  trap '' HUP INT TERM PIPE
  was=$(sed -n 's/^was //p' "$alt/swapping" | head -1)
  inode=$(sed -n 's/^shared //p' "$alt/swapping" | head -1)
  # shared/: half-way (one of its names is missing) is taken back; all
  # the way (a new inode under the name) is swapped back. A recovery cut
  # off in turn goes on from what it noted ("undone").
  if [ -e "$alt/shared.out" ]; then
    if [ ! -e shared ]; then mv -T -- "$alt/shared.out" shared; else mv -T -- "$alt/shared.out" "$alt/shared"; fi
  fi
  if [ -n "$inode" ] && [ "$(stat -c %i shared)" != "$inode" ]; then swap_shared; fi
  if grep -qx 'done db' "$alt/swapping" && ! grep -qx 'undone db' "$alt/swapping"; then
    swap_db
    printf 'undone db\n' >>"$alt/swapping"
  fi
  if [ -n "$was" ] && [ "$(serving)" != "$was" ]; then
    serving >"$alt/release"
    switch_to "$was"
  fi
  rm -f -- "$alt/swapping"
  trap 'exit 143' HUP INT TERM
  trap 'exit 141' PIPE
  reload_php
  changed "a restore's switch that was cut off was undone: $DOMAIN serves ${was:-what it served} again"
}

# A shared/ restored as root into $1 (private): owners and modes as CHOM
# makes them, the site's writable folders its user's, nothing but files,
# folders and links.
normalize_shared() {
  local d=$1 p
  find -P "$d" ! -type f ! -type d ! -type l -delete
  seal_tree "$d"
  for p in $(secret_files); do
    if [ -f "$d/$p" ] && [ ! -L "$d/$p" ]; then
      # A copy of its own: restic restores hard links, and a secret must
      # share its data with no file the site's user gets.
      install -m 640 -o root -g "$SITE_USER" -- "$d/$p" "$d/$p.chom-new"
      mv -f -- "$d/$p.chom-new" "$d/$p"
    else
      rm -rf -- "${d:?}/$p"
    fi
  done
  for p in $(writable_dirs); do
    if [ -d "$d/$p" ] && [ ! -L "$d/$p" ]; then
      give_tree "$d/$p"
      chown -h "$SITE_USER:$WEB_GROUP" -- "$d/$p"
      chmod 2750 -- "$d/$p"
    else
      rm -rf -- "${d:?}/$p"
    fi
  done
  chmod 750 -- "$d"
}

# The swap is live: checked; if the check fails, swapped back.
go_live() {
  reload_php
  if [ "$KIND" = laravel ] && [ -f "$alt/release" ]; then
    as_site "$BASE/current" php artisan config:cache && as_site "$BASE/current" php artisan route:cache ||
      swap_back "artisan (config and route caches) failed in the release now live"
  fi
  step verify
  health live || swap_back "$detail"
}

# The live check failed: the states change places again, and a restore's
# never-good state goes.
swap_back() {
  swap
  reload_php
  if [ "$ACTION" = restore ]; then
    swapped=""
    [ -z "$rel" ] || rm -rf -- "$rel"
  fi
  fail "$1; $DOMAIN serves what it served before"
}

# The backup's release and shared/ into root's private $stage: from the
# repository (restic restore, verified), or from the files a desktop
# uploaded (tar streams unpacked as data). Sets srcrel and srcshared.
fetch_files() {
  rm -rf -- "$stage"
  mkdir -m 700 -- "$stage"
  if [ "$SOURCE" = files ]; then
    mkdir -m 700 -- "$stage/release" "$stage/shared"
    unpack_into "$stage/release" <"$FILES_DIR/release.tar" && unpack_into "$stage/shared" <"$FILES_DIR/shared.tar" ||
      { disk_full "unpacking the backup's files"; fail "unpacking the backup's files from $FILES_DIR failed (tar's messages are above)"; }
    srcrel="$stage/release" srcshared="$stage/shared"
    return 0
  fi
  want_snapshot "$FILES_SNAPSHOT"
  case "$SOURCE_RELEASE" in *[!0-9a-z-]* | "") fail "internal: SOURCE_RELEASE is a release id" ;; esac
  restic restore "$FILES_SNAPSHOT" --target "$stage" --verify \
    --include "$SOURCE_BASE/releases/$SOURCE_RELEASE" --include "$SOURCE_BASE/shared" >"$work/out" 2>"$work/err" ||
    { disk_full "restoring the backup's files"; fail "restoring the files of snapshot $FILES_SNAPSHOT failed: $(tail -2 "$work/err" | tr '\n' ' ')"; }
  srcrel="$stage$SOURCE_BASE/releases/$SOURCE_RELEASE" srcshared="$stage$SOURCE_BASE/shared"
  [ -d "$srcrel" ] && [ ! -L "$srcrel" ] && [ -d "$srcshared" ] && [ ! -L "$srcshared" ] ||
    fail "snapshot $FILES_SNAPSHOT does not hold release $SOURCE_RELEASE and shared/ of $SOURCE_BASE"
}

# Into a site that is not the backed-up one (NEW_SITE=1): the site keeps
# its own secrets (its database's name, user and password), taking only
# Laravel's APP_KEY from the backup (what its data was encrypted with);
# WordPress's address becomes SITE_URL.
as_new_site() {
  local key
  for p in $(secret_files); do
    [ -f "shared/$p" ] || continue
    if [ "$p" = .env ] && key=$(grep -m1 '^APP_KEY=' "$alt/shared/.env" 2>/dev/null); then
      { grep -v '^APP_KEY=' "shared/.env"; printf '%s\n' "$key"; } >"$work/env"
      install -m 640 -o root -g "$SITE_USER" -- "$work/env" "$alt/shared/.env"
    else
      install -m 640 -o root -g "$SITE_USER" -- "shared/$p" "$alt/shared/$p"
    fi
  done
}

wordpress_url() {
  local t
  case "$SITE_URL" in http://* | https://*) ;; *) fail "internal: SITE_URL is a URL" ;; esac
  case "$SITE_URL" in *[!A-Za-z0-9:/.-]*) fail "internal: SITE_URL has unexpected characters" ;; esac
  for t in $(base_tables "$undo_db" | grep -x '[A-Za-z0-9_]*options'); do
    sql "UPDATE \`$undo_db\`.\`$t\` SET option_value = '$SITE_URL' WHERE option_name IN ('siteurl', 'home');"
  done
}

# The backup's dump into $undo_db, checked: run beside the files' restore
# (below), in a scratch folder of its own, its events kept in
# $work/db/events for the caller to pass on.
load_db() {
  work=$work/db
  if [ "$SOURCE" = files ]; then
    load_file "$FILES_DIR/database.sql" "$undo_db"
  else
    load_dump "$DB_SNAPSHOT" "$SOURCE_DOMAIN.sql" "$undo_db"
  fi
  want_swappable "$undo_db"
  if [ "$NEW_SITE" = 1 ] && [ "$KIND" = wordpress ]; then wordpress_url; fi
}

restore() {
  case "$RELEASE" in *[!0-9a-z-]* | "") fail "bad release id" ;; esac
  case "$BACKUP_ID" in *[!0-9]* | "") fail "internal: BACKUP_ID is a number" ;; esac
  case "$PARTS" in site | database) ;; *) fail "internal: PARTS is site or database" ;; esac
  case "$SOURCE" in
    files)
      case "$FILES_DIR" in "$dir"/import/[0-9]* | "$dir"/export/[0-9]*) ;; *) fail "internal: FILES_DIR is a folder of CHOM's" ;; esac
      [ "$(stat -c '%F|%U|%a' -- "$FILES_DIR" 2>/dev/null)" = "directory|root|700" ] || fail "$FILES_DIR is not root's own folder"
      has_db=""
      if [ -f "$FILES_DIR/database.sql" ]; then has_db=1; fi
      ;;
    restic) has_db=${DB_SNAPSHOT:+1} ;;
    *) fail "internal: SOURCE is restic or files" ;;
  esac
  [ "$PARTS" = site ] || [ -n "$has_db" ] || fail "backup $BACKUP_ID holds no database"
  [ -n "$PHP" ] || [ -z "$has_db" ] || fail "$DOMAIN has no database to restore into"
  [ -L "/etc/nginx/sites-enabled/chom-$DOMAIN.conf" ] ||
    fail "$DOMAIN is disabled on this server, so the restored site cannot be checked through nginx; enable it first (chom site enable $DOMAIN)"
  prev=$(serving)
  value previous "${prev:-none}"
  drop_alt
  rel="releases/$RELEASE"
  [ -e "$rel" ] && { rel=""; fail "release $RELEASE exists already"; }
  [ "$PARTS" = site ] || rel=""
  (umask 077 && mkdir -- "$alt")
  made_alt=1
  parts=""
  if [ -n "$has_db" ]; then
    want_swappable "$SITE_USER"
    # The dump loads while the files are restored: the two take about as
    # long, and neither waits for the other's disk or CPU.
    (umask 077 && mkdir -- "$work/db")
    (trap - EXIT && load_db) >"$work/db/events" &
    db_pid=$!
  fi
  if [ "$PARTS" = site ]; then
    step files
    fetch_files
    # The release: marked half-made before it is in releases/, sealed like
    # a build's result (its links the site's user's), linked to shared/.
    : >"$srcrel/.chom-partial"
    mv -T -- "$srcrel" "$rel"
    # Its files are new: the record of the release it was (.chom-files)
    # says nothing of them, so the next deploy sends every file once.
    rm -f -- "$rel/.chom-files"
    seal_tree "$rel" site
    : >"$rel/.chom-partial"
    open_release "$rel"
    link_shared "$rel"
    step shared
    mv -T -- "$srcshared" "$alt/shared"
    normalize_shared "$alt/shared"
    [ "$NEW_SITE" != 1 ] || as_new_site
    rm -rf -- "$stage"
    printf '%s\n' "$RELEASE" >"$alt/release"
    parts="release shared"
  fi
  if [ -n "$has_db" ]; then
    step database
    wait "$db_pid" && st=0 || st=$?
    db_pid=""
    # Its events are this run's own (root's private folder); only lines
    # with the token count, whatever the dump made mysql print beside them.
    cat -- "$work/db/events"
    [ "$st" -eq 0 ] || {
      grep -q "^@@chom:$CHOM_TOKEN error " "$work/db/events" || fail "loading the database stopped (exit status $st)"
      exit 1
    }
    parts="db $parts"
  fi
  printf '%s\n' "$parts" >"$alt/parts"
  printf 'backup %s\n' "$BACKUP_ID" >"$alt/label"

  # The preview protects what serves now; a new site serves only its
  # placeholder, and its database is still empty: its live check decides.
  if [ "$PARTS" = site ] && [ "$NEW_SITE" != 1 ]; then
    step health
    ln -sfn "$rel" next
    if ! health preview; then
      rm -f next
      fail "$detail"
    fi
    rm -f next
  fi

  step switch
  client_alive || fail "the connection to CHOM was lost before the switch; ${prev:-the site} keeps serving"
  [ -z "$rel" ] || rm -f -- "$rel/.chom-partial"
  swap
  swapped=1
  go_live
  make_writable_tree
  value release "$(serving)"
  changed "$DOMAIN restored from backup $BACKUP_ID ($(cat "$alt/parts" | tr ' ' ',')); chom backup undo $DOMAIN switches back"
}

undo() {
  value previous "$(serving)"
  [ -f "$alt/parts" ] || fail "nothing to undo: no restore of $DOMAIN left its earlier state on the server"
  [ "$(serving)" = "$(cat "$alt/live")" ] ||
    fail "$DOMAIN changed since its restore (release $(serving) is live, not $(cat "$alt/live")); undo would lose that: deploy or restore instead"
  other=$(cat "$alt/release" 2>/dev/null || true)
  if [ -n "$other" ]; then
    [ -d "releases/$other" ] && [ ! -f "releases/$other/.chom-partial" ] || fail "release $other, to switch back to, is gone"
    want_dir "releases/$other" root "$WEB_GROUP"
  fi
  step switch
  swap
  go_live
  value release "$(serving)"
  changed "$DOMAIN switched back to the state before the restore (undo again to redo it)"
}

lock
check_layout || fail "$DOMAIN has the layout before CHOM's current one: run chom site repair first"
recover_swap
case "$ACTION" in
  restore)
    if [ "$SOURCE" = files ]; then
      [ "$(stat -c '%F|%U|%a' -- "$dir" 2>/dev/null)" = "directory|root|700" ] || fail "$dir is not root's own folder (mode 700)"
      work=$(mktemp -d "$dir/run.XXXXXX")
    else
      open_repo existing
    fi
    restore
    ;;
  undo) undo ;;
  *) fail "unknown action $ACTION" ;;
esac

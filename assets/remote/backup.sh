# chom backup create|drill|check|forget: a site's files and database into
# this server's restic repository; a backup restored into scratch copies and
# counted (a drill); a check of the repository's data; a retention plan, and
# the snapshots it removes.
# After layout.sh and restic.sh. Variables (besides layout.sh's): ACTION
# (create | drill | check | retain | schedule | scheduled | export |
# unexport | inbox), BACKUP_ID (create, drill),
# CHOM_VERSION, FILES_SNAPSHOT and DB_SNAPSHOT (drill; DB_SNAPSHOT empty for
# a site without a database), CHECK_SUBSET (check: a percentage of the data
# to read, 100 for all), KEEP, PROTECT and DRY_RUN (retain, scheduled),
# CRON_HOUR, CRON_MINUTE and RUNNER (schedule), DRILL_DAYS (scheduled),
# SOURCE_RELEASE (export).
# stdin, after the token and holder lines: the repository's password (it
# goes to a root-only file restic reads, as the server's own schedule will;
# never on a command line, never in the environment of anything but restic).
#
# Root reads the site here. What a site's user can write (uploads, storage)
# is read as data: restic records a link as a link and follows none, stays
# on one file system, and nothing it prints can pass for a result (results
# carry the run's token; restic's own summary is read from its first
# column only).

sched=$dir/schedule
work=""
trap 'exiting; [ -z "$work" ] || rm -rf -- "$work"' EXIT
case "$ACTION" in
  create | schedule | scheduled | inbox) open_repo create ;;
  *) open_repo existing ;;
esac

# When restic failed writing to a full disk (its error, in file $2 or
# $work/err, names a file of the repository, which no site names), says so in words an operator can
# act on; restic removed what it had half-written.
disk_full() {
  local avail err=${2:-$work/err}
  if grep -qF "$repo/" "$err" && grep -q 'no space left on device' "$err"; then
    avail=$(df -Pk "$dir" 2>/dev/null | awk 'NR==2 {print $4}')
    fail "the server's disk is full (${avail:-?} KiB left for $dir) while $1: free some space, then back up again; older backups are intact"
  fi
}

# After a failed check: the snapshots whose data is in the packs it named
# (the hex names of the repository's data files; other hex in its words is
# not a pack's), as restic's own index tells. Names nothing when the damage
# is not in a pack's data (a lost index, a broken tree): the caller then
# trusts no backup of the repository.
damaged_snapshots() {
  local p packs=""
  for p in $(cat "$work/out" "$work/err" | grep -o '[0-9a-f]\{64\}' | sort -u); do
    if [ -f "$repo/data/$(printf '%s' "$p" | cut -c1-2)/$p" ]; then packs="$packs $p"; fi
  done
  [ -n "$packs" ] || return 0
  # JSON escapes a quote in a file's path: only restic's own field matches.
  # shellcheck disable=SC2086 # hex names
  value damaged "$(restic find --json --pack $packs 2>/dev/null | grep -o '"snapshot":"[0-9a-f]\{64\}"' |
    cut -d'"' -f4 | sort -u | tr '\n' ' ')"
}

# The site's files and (PHP sites) its database streamed from mysqldump:
# two snapshots sharing the tag backup:$BACKUP_ID, made at once by two
# restic processes (backups share the repository's lock), so restic's
# fixed costs (its key derivation, loading the index) overlap. A backup
# is both parts or neither: when one fails, what restic kept of the other
# goes, so it is never restored.
create() {
  local files_pid db_st=0 dump=0 made
  step files
  check_layout || fail "$DOMAIN has the layout before CHOM's current one: run chom site repair first"
  # No deploy switches or prunes releases while they are read.
  lock
  live=$(readlink -- "$BASE/current") || fail "$DOMAIN has no live release"
  release=${live##*/}
  case "$release" in *[!a-z0-9-]* | "" | -*) fail "the live release of $DOMAIN is not one CHOM made ($live)" ;; esac
  [ "$(stat -c '%F|%U' -- "$BASE/releases/$release")" = "directory|root" ] || tampered "$BASE/releases/$release" "not root's folder"
  paths="$BASE/releases/$release $BASE/shared"
  for conf in "/etc/nginx/sites-available/chom-$DOMAIN.conf" "/etc/php/$PHP/fpm/pool.d/chom-$SITE_USER.conf"; do
    if [ -f "$conf" ] && [ ! -L "$conf" ]; then paths="$paths $conf"; fi
  done
  if [ -n "$PHP" ]; then
    command -v mysqldump >/dev/null || fail "mysqldump is not installed on this server"
    engine=$(mysql --protocol=socket -uroot -N -e 'SELECT VERSION()' 2>/dev/null | tr -c 'A-Za-z0-9.\n-' '_')
  fi
  tags="--tag chom --tag site:$DOMAIN --tag kind:$KIND --tag release:$release --tag backup:$BACKUP_ID --tag chom:$CHOM_VERSION"
  # shellcheck disable=SC2086 # the tags and paths are words CHOM checked
  restic backup --json --quiet --one-file-system $tags --tag part:files $paths >"$work/out" 2>"$work/err" &
  files_pid=$!
  if [ -n "$PHP" ]; then
    step dump
    # The dump streams into restic (no dump file on disk); its own exit
    # status is kept apart, as sh has no pipefail. It names no database
    # (no USE), so it loads into whichever one a restore makes.
    # shellcheck disable=SC2086
    { mysqldump --protocol=socket -uroot --single-transaction --routines --triggers "$SITE_USER" \
        2>"$work/dump-err"; echo $? >"$work/dump-status"; } |
      restic backup --json --quiet --stdin --stdin-filename "$DOMAIN.sql" $tags --tag part:database \
        --tag "db:${engine:-unknown}" >"$work/db-out" 2>"$work/db-err" || db_st=$?
    dump=$(cat "$work/dump-status" 2>/dev/null || echo 1)
  fi
  wait "$files_pid" && st=0 || st=$?
  if [ "$st" -ne 0 ] || [ "$db_st" -ne 0 ] || [ "$dump" != 0 ]; then
    made=$(cat -- "$work/out" "$work/db-out" 2>/dev/null | grep '^{"message_type":"summary"' |
      sed -n 's/.*"snapshot_id":"\([0-9a-f]*\)".*/\1/p' | tr '\n' ' ')
    # shellcheck disable=SC2086 # hex ids
    if [ -n "$made" ]; then restic forget $made >/dev/null 2>&1 || true; fi
  fi
  if [ "$st" -eq 3 ]; then
    fail "some files of $DOMAIN could not be read ($(grep -v '^{' "$work/err" | tail -2 | tr '\n' ' ')); this backup is not complete"
  fi
  [ "$st" -eq 0 ] || { disk_full "backing up the files of $DOMAIN"; fail "restic backup of $DOMAIN's files failed: $(tail -2 "$work/err" | tr '\n' ' ')"; }
  [ "$dump" = 0 ] || fail "mysqldump of $SITE_USER failed: $(tail -2 "$work/dump-err" | tr '\n' ' ')"
  [ "$db_st" -eq 0 ] || { disk_full "backing up the database of $DOMAIN" "$work/db-err"; fail "restic backup of $DOMAIN's database failed: $(tail -2 "$work/db-err" | tr '\n' ' ')"; }
  summary "the files of $DOMAIN"
  files_id=$id
  value release "$release"
  value files_snapshot "$id"
  value files "$(field total_files_processed)"
  value bytes "$(field total_bytes_processed)"
  value added "$(field data_added)"
  if [ -n "$PHP" ]; then
    summary "the database of $DOMAIN" "$work/db-out" "$work/db-err"
    db_id=$id
    value db_snapshot "$id"
    value db_bytes "$(field total_bytes_processed)"
    value engine "${engine:-unknown}"
  fi
}

# The backup restored where nothing serves it: its files into a scratch
# folder of root's (content checked against the snapshot by restic),
# counted against the snapshot's own listing; its dump into a scratch
# database, its tables and rows counted. Both go at the end, whatever
# happens (the EXIT trap removes $work; the database below). Its counts
# are values named with DRILL_PREFIX first (the schedule's run reports a
# backup's counts too).
drill() {
  want_snapshot "$FILES_SNAPSHOT"
  [ -z "$DB_SNAPSHOT" ] || want_snapshot "$DB_SNAPSHOT"
  case "$BACKUP_ID" in *[!0-9a-z]* | "") fail "internal: BACKUP_ID is CHOM's" ;; esac
  [ -n "$FILES_SNAPSHOT" ] || fail "internal: no files snapshot to drill"
  step restore
  scratch=$work/drill
  (umask 077 && mkdir -- "$scratch")
  restic restore "$FILES_SNAPSHOT" --target "$scratch" --verify >"$work/out" 2>"$work/err" ||
    fail "restoring the files of snapshot $FILES_SNAPSHOT failed: $(tail -2 "$work/err" | tr '\n' ' ')"
  # restic's listing: one JSON object per node; a name is JSON-escaped,
  # so only a node's own type field matches.
  want=$(restic ls --json "$FILES_SNAPSHOT" 2>"$work/err" | grep -c '"type":"file"' || true)
  got=$(find "$scratch" -type f | wc -l)
  [ "$got" -gt 0 ] && [ "$got" = "$want" ] || fail "snapshot $FILES_SNAPSHOT lists $want files; $got came back"
  value "${DRILL_PREFIX:-}files" "$got"
  rm -rf -- "$scratch"
  if [ -n "$DB_SNAPSHOT" ]; then
    step dump
    db="chom_drill_$BACKUP_ID"
    drop_db() { sql "DROP DATABASE IF EXISTS \`$db\`;"; }
    trap 'exiting; drop_db 2>/dev/null || true; [ -z "$work" ] || rm -rf -- "$work"' EXIT
    load_dump "$DB_SNAPSHOT" "$DOMAIN.sql" "$db"
    tables=$(sql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$db';")
    [ "$tables" -gt 0 ] || fail "the dump of snapshot $DB_SNAPSHOT loaded no table"
    rows=0
    for t in $(base_tables "$db" | grep -x '[A-Za-z0-9_]*'); do
      rows=$((rows + $(sql "SELECT COUNT(*) FROM \`$db\`.\`$t\`;")))
    done
    value "${DRILL_PREFIX:-}tables" "$tables"
    value "${DRILL_PREFIX:-}rows" "$rows"
    drop_db
  fi
  # Passed: the site's schedule protects the newest restore-tested
  # backup (PROTECT, which CHOM chose) from its retention.
  if [ -n "$PROTECT" ] && [ -f "$sched/$DOMAIN.protect" ]; then
    case "$PROTECT" in *[!0-9a-f]*) fail "internal: PROTECT is a snapshot id" ;; esac
    printf '%s\n' "$PROTECT" >"$sched/$DOMAIN.protect"
  fi
}

# Retention: restic's rules (KEEP, e.g. --keep-last 3 --keep-daily 7)
# choose among the site's files snapshots (one group, whatever the
# server's hostname was); a backup is kept, both its
# snapshots, when its files snapshot is, or when it is PROTECT's (a files
# snapshot id: the newest restore-tested backup's). Everything else of the site goes
# (unless DRY_RUN=1), then the data no snapshot needs. restic's JSON holds
# only what CHOM wrote (ids, times, CHOM's tags, the sites' base paths).
retain() {
  local keep_tags t id line removed=""
  step plan
  case "$KEEP" in *[!a-z0-9\ -]* | "") fail "internal: KEEP holds restic's --keep options" ;; esac
  case "$PROTECT" in *[!0-9a-f]*) fail "internal: PROTECT is a snapshot id" ;; esac
  # shellcheck disable=SC2086 # KEEP is options CHOM made from numbers
  restic forget --dry-run --json --group-by '' --tag "site:$DOMAIN,part:files" $KEEP >"$work/plan" 2>"$work/err" ||
    fail "restic forget --dry-run failed: $(tail -2 "$work/err" | tr '\n' ' ')"
  restic snapshots --json --tag "site:$DOMAIN" >"$work/all" 2>"$work/err" ||
    fail "listing the snapshots of $DOMAIN failed: $(tail -2 "$work/err" | tr '\n' ' ')"
  for f in plan all; do [ "$(wc -l <"$work/$f")" -le 1 ] || fail "internal: restic printed more than one JSON line"; done
  value plan "$(cat "$work/plan")"
  # The backup tags of the kept files snapshots: the "keep" list comes
  # before "remove" in each group restic prints.
  keep_tags=$(sed 's/"remove":.*//' "$work/plan" | grep -o '"backup:[a-z0-9]*"' | tr -d '"' | sort -u)
  [ -n "$keep_tags" ] || fail "restic's rules would keep no backup of $DOMAIN; CHOM removes nothing then"
  # One snapshot per line: objects end "}," and the next starts {"time".
  sed 's/},{"time"/}\n{"time"/g' "$work/all" >"$work/each"
  if [ -n "$PROTECT" ]; then
    keep_tags="$keep_tags $(grep "\"id\":\"$PROTECT" "$work/each" | grep -o '"backup:[a-z0-9]*"' | head -1 | tr -d '"')"
  fi
  while IFS= read -r line; do
    id=$(printf '%s' "$line" | grep -o '"id":"[0-9a-f]\{64\}"' | head -1 | cut -d'"' -f4)
    t=$(printf '%s' "$line" | grep -o '"backup:[a-z0-9]*"' | head -1 | tr -d '"')
    # A snapshot without CHOM's backup tag is not CHOM's to remove.
    [ -n "$id" ] && [ -n "$t" ] || continue
    # shellcheck disable=SC2086 # tags: words of [a-z0-9:]
    case " $(echo $keep_tags) " in *" $t "*) continue ;; esac
    removed="$removed $id"
  done <"$work/each"
  value removed "${removed# }"
  [ "$DRY_RUN" != 1 ] && [ -n "$removed" ] || return 0
  step forget
  # shellcheck disable=SC2086 # hex ids
  restic forget $removed >"$work/out" 2>"$work/err" || fail "restic forget failed: $(tail -2 "$work/err" | tr '\n' ' ')"
  step prune
  restic prune >"$work/out" 2>"$work/err" || fail "restic prune failed: $(tail -2 "$work/err" | tr '\n' ' ')"
}

# The schedule's run (cron, through its runner): a backup, then the
# retention the operator set, protecting the backup the desktop last named
# as the newest restore-tested; on the days of DRILL_DAYS (ISO weekdays,
# 1 for Monday), a drill of the new backup. A failed drill leaves the
# backup made: the run reports it apart (drill passed or failed).
scheduled() {
  BACKUP_ID="s$(date -u +%Y%m%d%H%M%S)"
  value backup "$BACKUP_ID"
  create
  if [ -n "$KEEP" ]; then
    PROTECT=$(grep -x '[0-9a-f]*' "$sched/$DOMAIN.protect" 2>/dev/null | head -1 || true)
    DRY_RUN=0
    retain
  fi
  case "$DRILL_DAYS" in *[!1-7]*) fail "internal: DRILL_DAYS are ISO weekdays" ;; esac
  case "$DRILL_DAYS" in *"$(date +%u)"*) ;; *) return 0 ;; esac
  step drill
  value drill started
  local t0 t1
  t0=$(date +%s%N)
  # In a subshell: its failure ends the drill, not the run.
  if (FILES_SNAPSHOT=$files_id DB_SNAPSHOT=${db_id:-} PROTECT=$files_id DRILL_PREFIX=drill_ drill); then
    t1=$(date +%s%N)
    value drill_ms $(((t1 - t0) / 1000000))
    value drill passed
  else
    value drill failed
  fi
}

# Installs (CRON_HOUR set) or removes the site's schedule: the backup
# script to run (the rest of stdin, as CHOM made it), its runner (RUNNER),
# and a cron entry; the status folder the probe reads. All root's.
schedule() {
  local cron="/etc/cron.d/chom-backup-$SITE_USER"
  step schedule
  if [ -z "$CRON_HOUR" ]; then
    rm -f -- "$cron" "$sched/$DOMAIN.run" "$sched/$DOMAIN.sh" "$sched/$DOMAIN.protect" "$sched/$DOMAIN.log" \
      "/var/lib/chom/backups/$DOMAIN.json"
    changed "no scheduled backup of $DOMAIN any more"
    return 0
  fi
  case "$CRON_HOUR$CRON_MINUTE" in *[!0-9]* | ?) fail "internal: CRON_HOUR and CRON_MINUTE are numbers" ;; esac
  case "$PROTECT" in *[!0-9a-f]*) fail "internal: PROTECT is a snapshot id" ;; esac
  if [ ! -e "$sched" ]; then (umask 077 && mkdir -- "$sched"); fi
  [ "$(stat -c '%F|%U|%a' -- "$sched")" = "directory|root|700" ] || fail "$sched is not root's own folder (mode 700)"
  for d in /var/lib/chom /var/lib/chom/backups; do
    if [ ! -e "$d" ]; then install -d -m 755 -o root -g root -- "$d"; fi
    [ "$(stat -c '%F|%U' -- "$d")" = "directory|root" ] || fail "$d is not root's folder"
  done
  cat >"$work/script"
  [ -s "$work/script" ] || fail "internal: no backup script on stdin"
  install -m 600 -- "$work/script" "$sched/$DOMAIN.sh"
  printf '%s\n' "$RUNNER" >"$work/runner"
  install -m 700 -- "$work/runner" "$sched/$DOMAIN.run"
  printf '%s\n' "$PROTECT" >"$sched/$DOMAIN.protect"
  printf '%s\n' "# Managed by CHOM: the scheduled backup of $DOMAIN (chom backup schedule $DOMAIN)." \
    "$CRON_MINUTE $CRON_HOUR * * * root /bin/sh $sched/$DOMAIN.run" | put_file "$cron" 644 || true
  rm -f -- "$cron.chom-old"
  changed "$DOMAIN is backed up every day at $CRON_HOUR:$CRON_MINUTE (the server's time)"
}

# A backup as plain files in a folder of root's ($dir/export/ID), for the
# desktop to download: release.tar and shared.tar (relative paths, links
# kept as links), database.sql (the dump), backup.txt (what they are).
# They come from restic's verified restore into root's private folder.
export_backup() {
  local out="$dir/export/$BACKUP_ID" x="$work/x"
  case "$BACKUP_ID" in *[!0-9]* | "") fail "internal: BACKUP_ID is a number" ;; esac
  case "$SOURCE_RELEASE" in *[!0-9a-z-]* | "") fail "internal: SOURCE_RELEASE is a release id" ;; esac
  want_snapshot "$FILES_SNAPSHOT"
  [ -z "$DB_SNAPSHOT" ] || want_snapshot "$DB_SNAPSHOT"
  step files
  if [ ! -e "$dir/export" ]; then (umask 077 && mkdir -- "$dir/export"); fi
  rm -rf -- "$out"
  (umask 077 && mkdir -- "$out" "$x")
  restic restore "$FILES_SNAPSHOT" --target "$x" --verify \
    --include "$BASE/releases/$SOURCE_RELEASE" --include "$BASE/shared" >"$work/out" 2>"$work/err" ||
    { disk_full "exporting backup $BACKUP_ID"; rm -rf -- "$out"; fail "restoring the files of snapshot $FILES_SNAPSHOT failed: $(tail -2 "$work/err" | tr '\n' ' ')"; }
  for part in "releases/$SOURCE_RELEASE:release" "shared:shared"; do
    [ -d "$x$BASE/${part%%:*}" ] || { rm -rf -- "$out"; fail "snapshot $FILES_SNAPSHOT holds no ${part%%:*} of $BASE"; }
    tar -C "$x$BASE/${part%%:*}" -cf "$out/${part##*:}.tar" . || { rm -rf -- "$out"; fail "packing the backup's ${part##*:} failed"; }
  done
  if [ -n "$DB_SNAPSHOT" ]; then
    step dump
    restic dump "$DB_SNAPSHOT" "/$DOMAIN.sql" >"$out/database.sql" 2>"$work/err" ||
      { rm -rf -- "$out"; fail "reading the dump of snapshot $DB_SNAPSHOT failed: $(tail -2 "$work/err" | tr '\n' ' ')"; }
  fi
  printf 'domain %s\nkind %s\nrelease %s\n' "$DOMAIN" "$KIND" "$SOURCE_RELEASE" >"$out/backup.txt"
  value dir "$out"
}

case "$ACTION" in
  create) create ;;
  scheduled) scheduled ;;
  schedule) schedule ;;
  export) export_backup ;;
  unexport)
    case "$BACKUP_ID" in *[!0-9]* | "") fail "internal: BACKUP_ID is a number" ;; esac
    rm -rf -- "$dir/export/$BACKUP_ID"
    ;;
  inbox)
    # A folder of root's for backup files uploaded from the desktop,
    # which a restore on this server reads (and removes).
    case "$BACKUP_ID" in *[!0-9]* | "") fail "internal: BACKUP_ID is a number" ;; esac
    if [ ! -e "$dir/import" ]; then (umask 077 && mkdir -- "$dir/import"); fi
    rm -rf -- "$dir/import/$BACKUP_ID"
    (umask 077 && mkdir -- "$dir/import/$BACKUP_ID")
    value dir "$dir/import/$BACKUP_ID"
    ;;
  drill) drill ;;
  check)
    step check
    case "$CHECK_SUBSET" in *[!0-9]* | "") fail "internal: CHECK_SUBSET is a percentage" ;; esac
    if [ "$CHECK_SUBSET" -ge 100 ]; then read_data=--read-data; else read_data="--read-data-subset=$CHECK_SUBSET%"; fi
    if ! restic check "$read_data" >"$work/out" 2>"$work/err"; then
      damaged_snapshots
      # restic names the damage on stderr, its progress on stdout.
      said=$(grep -v '^$' "$work/err" | tail -3 | tr '\n' ' ')
      [ -n "$said" ] || said=$(grep -v '^$' "$work/out" | tail -3 | tr '\n' ' ')
      fail "restic check of $repo found damage: $said"
    fi
    value checked "$CHECK_SUBSET"
    ;;
  retain) retain ;;
  *) fail "unknown action $ACTION" ;;
esac

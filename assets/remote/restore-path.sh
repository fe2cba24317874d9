# chom backup restore ID --path PATH [--into FOLDER]: one file or folder of
# a backup put back into its site, beside what is there (nothing is
# overwritten). After layout.sh and restic.sh. Variables (besides
# layout.sh's): BACKUP_ID, FILES_SNAPSHOT, SOURCE_RELEASE (the backup's
# live release), ITEM (the path in the site as backed up: shared/... or
# current/..., which CHOM checked: no "..", no glob), INTO (a folder of
# shared/ that the site's user can write, made as that user when missing;
# empty: restored/BACKUP_ID, made for it). stdin, after the token and
# holder lines: the repository's password.
#
# restic writes the backup's files into root's private stage, where
# nothing of the site's reaches; root drops what is neither file, folder
# nor link, and packs the tree (links as links). The site's user unpacks
# it: whatever link the user planted in shared/ leads only where the user
# could write anyway, and root writes nothing there.

# The site's user unpacks the tar stream on stdin into folder DIR, as its
# own files under its own rights, replacing nothing; tar's messages go to
# $work/unpack-err.
site_unpack() {
  # shellcheck disable=SC2016 # expanded by the user's shell
  site_run sh -c 'umask 027; exec tar -C "$1" -xf - --no-same-owner --no-same-permissions --keep-old-files' \
    chom-unpack "$1" 3<&0 2>"$work/unpack-err"
}

[ -f "$BASE/.chom/site" ] || fail "$DOMAIN is not a CHOM site on this server (no $BASE/.chom/site)"
cd "$BASE"
stage=.chom/restore-path
work=""
trap 'exiting; rm -rf -- "$stage"; [ -z "$work" ] || rm -rf -- "$work"' EXIT
open_repo existing

want_snapshot "$FILES_SNAPSHOT"
case "$BACKUP_ID" in *[!0-9]* | "") fail "internal: BACKUP_ID is a number" ;; esac
# CHOM checked both; checked again where root acts on them.
for p in "$ITEM" ${INTO:+"$INTO"}; do
  case "/$p/" in */../* | */./* | *//* | *[*?[\\]*) fail "internal: $p is not a plain relative path" ;; esac
done
case "$ITEM" in
  shared/?*) src="$BASE/$ITEM" ;;
  current/?*)
    case "$SOURCE_RELEASE" in *[!0-9a-z-]* | "" | -*) fail "internal: SOURCE_RELEASE is a release id" ;; esac
    src="$BASE/releases/$SOURCE_RELEASE/${ITEM#current/}"
    ;;
  *) fail "internal: ITEM is a path under shared/ or current/" ;;
esac
name=${ITEM##*/}

step restore
[ "$(stat -c '%F|%U|%a' -- .chom)" = "directory|root|700" ] || tampered "$BASE/.chom" "not root's own folder"
rm -rf -- "$stage"
(umask 077 && mkdir -- "$stage")
restic restore "$FILES_SNAPSHOT" --target "$stage" --include "$src" --verify >"$work/out" 2>"$work/err" ||
  fail "restoring $ITEM from snapshot $FILES_SNAPSHOT failed: $(tail -2 "$work/err" | tr '\n' ' ')"
got=$stage$src
# A folder on the way may be a link in the backup (the site's user can
# make one of its folders a link): root follows none, so the item's folder
# must be the stage's own.
[ "$(realpath -e -- "${got%/*}" 2>/dev/null)" = "$(realpath -e -- "$stage")${src%/*}" ] ||
  fail "backup $BACKUP_ID holds no folder ${ITEM%/*} (a link is there, or nothing); nothing was changed"
[ -e "$got" ] || [ -L "$got" ] || fail "backup $BACKUP_ID holds no $ITEM; nothing was changed"
# Fifos, sockets and devices are nobody's files to restore; set-id bits go.
find "$got" ! -type f ! -type d ! -type l -exec rm -f -- {} +
find "$got" -type f -perm /6000 -exec chmod ug-s -- {} +
files=$(find "$got" ! -type d | wc -l)

step place
if [ -z "$INTO" ]; then
  INTO="restored/$BACKUP_ID"
  # shared/ is root's: nothing of the site's user can be in the way of
  # restored/, which becomes the user's (its folders below are the user's).
  if [ ! -e shared/restored ] && [ ! -L shared/restored ]; then
    install -d -m 2750 -o "$SITE_USER" -g "$WEB_GROUP" -- shared/restored
  fi
  [ "$(stat -c '%F|%U' -- shared/restored)" = "directory|$SITE_USER" ] ||
    tampered "$BASE/shared/restored" "not a folder of $SITE_USER's"
fi
target="$BASE/shared/$INTO"
# As the site's user, which alone decides what it can write: the folder
# is made when missing; an existing NAME in it is never replaced.
# shellcheck disable=SC2016 # expanded by the user's shell
if ! err=$(setsid runuser -u "$SITE_USER" -- env -i PATH=/usr/bin:/bin LC_ALL=C sh -c '
    umask 027
    mkdir -p -- "$1" || exit 1
    if [ -e "$1/$2" ] || [ -L "$1/$2" ]; then echo "exists"; exit 3; fi
  ' chom-place "$target" "$name" </dev/null 2>&1 9>&-); then
  case "$err" in
    exists) fail "shared/$INTO/$name exists; nothing was changed (restore it into another folder with --into)" ;;
    *) fail "$SITE_USER cannot write shared/$INTO: $(printf '%s' "$err" | tail -1); nothing was changed" ;;
  esac
fi
{ tar -C "${got%/*}" -cf - -- "$name"; echo $? >"$work/pack.status"; } | site_unpack "$target" ||
  fail "unpacking $ITEM into shared/$INTO as $SITE_USER failed: $(tail -2 "$work/unpack-err" | tr '\n' ' ')"
[ "$(cat "$work/pack.status")" = 0 ] || fail "packing $ITEM of the backup failed"
value files "$files"
value placed "shared/$INTO/$name"
changed "$ITEM of backup $BACKUP_ID is in shared/$INTO/$name ($files files)"

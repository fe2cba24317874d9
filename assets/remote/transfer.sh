# chom download | upload: one file between this server and the desktop,
# resumable, its SHA-256 checked. Variables: ACTION (stat | sha | offset |
# put | finish), FILE (an absolute path), RESET (put: start the part file
# over), SIZE (finish: the whole file's size).
#
# Root writes only into a folder whose every component from / is a real
# folder root owns and no one else can write: nothing a site's user can
# write (a link, a planted part file) can steer where the bytes go. An
# upload goes to FILE.chom-part first and is renamed into place only once
# its size and SHA-256 (reported by put) matched what the desktop sent.

case "$FILE" in /*) ;; *) fail "$FILE is not an absolute path" ;; esac
dir=$(dirname -- "$FILE")
part="$FILE.chom-part"

# Every component of $1 from /: a folder (not a link) of root's that only
# root can write.
root_only_dir() {
  local p="" c rest="${1#/}" st
  [ "$(stat -c '%F|%U' -- /)" = "directory|root" ] || fail "/ is not root's"
  while [ -n "$rest" ]; do
    c="${rest%%/*}"
    rest="${rest#"$c"}"; rest="${rest#/}"
    [ -n "$c" ] || continue
    p="$p/$c"
    st=$(stat -c '%F|%U|%a' -- "$p" 2>/dev/null) || fail "$p does not exist on this server"
    case "$st" in
      "symbolic link"*) fail "$p is a link ($(readlink -- "$p")): upload into a folder that is not reached through a link" ;;
      directory\|root\|*) ;;
      directory*) fail "$p belongs to $(echo "$st" | cut -d'|' -f2), not root: CHOM uploads as root only into folders only root can write" ;;
      *) fail "$p is not a folder" ;;
    esac
    case "${st##*|}" in
      *[2367]? | *[2367]) fail "$p can be written by others than root: CHOM uploads as root only into folders only root can write" ;;
    esac
  done
}

# SHA-256 of file $1: OpenSSL's where it is installed (several times
# coreutils' speed on CPUs with SHA extensions).
sha256() {
  if command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r "$1" | cut -d' ' -f1
  else
    sha256sum -- "$1" | cut -d' ' -f1
  fi
}

# $1 is a regular file with one name, reached through no link.
plain_file() {
  [ "$(readlink -f -- "$1" 2>/dev/null)" = "$1" ] || fail "$1 is reached through a link, or does not exist"
  case "$(stat -c '%F|%h' -- "$1")" in
    "regular file|1" | "regular empty file|1") ;;
    regular*) fail "$1 has more than one name (hard links)" ;;
    *) fail "$1 is not a regular file" ;;
  esac
}

case "$ACTION" in
  stat)
    plain_file "$FILE"
    value size "$(stat -c %s -- "$FILE")"
    value mtime "$(stat -c %Y -- "$FILE")"
    ;;
  sha)
    plain_file "$FILE"
    value sha256 "$(sha256 "$FILE")"
    ;;
  offset)
    root_only_dir "$dir"
    if [ -e "$part" ] || [ -L "$part" ]; then
      plain_file "$part"
      [ "$(stat -c %U -- "$part")" = root ] || fail "$part is not root's"
      value offset "$(stat -c %s -- "$part")"
      value part_sha256 "$(sha256 "$part")"
    else
      value offset 0
    fi
    ;;
  put)
    root_only_dir "$dir"
    # RESET: a half-made upload of another file is replaced.
    if [ -n "${RESET:-}" ] && { [ -e "$part" ] || [ -L "$part" ]; }; then rm -f -- "$part"; fi
    if [ -e "$part" ] || [ -L "$part" ]; then plain_file "$part"; else (umask 077 && set -C && : >"$part"); fi
    cat >>"$part"
    # What arrived, whole (an earlier part included), read back from the
    # page cache: cheaper than hashing in a pipe as it is written. The disk
    # writes it back meanwhile, so finish's sync has little left to wait for.
    sync -- "$part" >/dev/null 2>&1 &
    flushing=$!
    value size "$(stat -c %s -- "$part")"
    value sha256 "$(sha256 "$part")"
    wait "$flushing" || true
    ;;
  finish)
    root_only_dir "$dir"
    plain_file "$part"
    [ "$(stat -c %s -- "$part")" = "$SIZE" ] || fail "$part holds $(stat -c %s -- "$part") bytes, not $SIZE"
    if [ -L "$FILE" ] || { [ -e "$FILE" ] && [ ! -f "$FILE" ]; }; then fail "$FILE exists and is not a regular file"; fi
    sync -- "$part" 2>/dev/null || sync
    mv -f -- "$part" "$FILE"
    changed "$FILE"
    ;;
  *) fail "unknown action $ACTION" ;;
esac

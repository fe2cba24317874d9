# chom deploy | rollback | releases | manifest for one site.
# Variables: ACTION, DOMAIN, BASE, SITE_USER, WEB_GROUP, KIND, PHP, VHOST,
# RELEASE, SOURCE (tgz: a .tar.gz on stdin | git | download), STRIP (tar
# components to drop), BASE_RELEASE (tgz: the release to link the files
# listed in .chom-reuse from), GIT_URL, GIT_REF, DOWNLOAD_URL,
# DOWNLOAD_SHA1, BUILD_HOOK, POST_HOOK, HEALTH_PATH, HEALTH_TEXT, KEEP, TO
# (rollback target).
#
# A release goes live only by the rename of a `current` symlink, after it
# passed its health check through nginx as `next`. Until then `current` is
# untouched, whatever happens to this script or its connection. Once live it
# is checked again; if that fails, the previous release is switched back.
#
# Root unpacks every release into a new folder only root can enter, as
# data; a build (composer, the build hook) runs as the site's user in a copy
# of its own, and what it made comes back the same way. The site's user
# never owns a release, so nothing it plants can steer what root does here.

[ -f "$BASE/.chom/site" ] || fail "$DOMAIN is not a CHOM site on this server (no $BASE/.chom/site)"
for tool in curl flock runuser setsid; do
  command -v "$tool" >/dev/null || fail "$tool is missing on this server; run chom server setup"
done
cd "$BASE"
work="" built=""
trap 'exiting; cleanup' EXIT
cleanup() {
  [ -n "$work" ] && rm -rf -- "$work"
  if [ -n "${rel:-}" ] && [ -f "$rel/.chom-partial" ]; then rm -rf -- "$rel"; fi
  [ -n "$built" ] && rm -rf -- "$BASE/.build"
  return 0
}

# The unchanged files (.chom-reuse: their manifest lines) are hard links
# to the files of BASE_RELEASE, the release of root's the client compared
# with: nothing is copied or hashed again. A release's files are never
# written in place (root only ever replaces them whole, and gives none to
# the site's user before it has a copy of its own: give_tree), so a shared
# file is as safe as a copy. A file is linked only when it is still what
# the base release was made with: its line is in the base's manifest, and
# walking the base without following links finds it with the size, mtime
# and inode that its .chom-files recorded then (an edit by hand changes
# the mtime). Only root's files in root's folders are recorded (files_of),
# so no path cp resolves can be moved by the site's user between the check
# and the link. Any mismatch asks the client for a full upload.
reuse() {
  local base="releases/$BASE_RELEASE"
  if [ -s "$rel/.chom-reuse" ]; then
    case "$BASE_RELEASE" in *[!0-9a-z-]* | "") value reuse_failed 1; fail "no release to reuse unchanged files from" ;; esac
    if [ ! -d "$base" ] || [ -f "$base/.chom-partial" ] || ! recorded "$base"; then
      value reuse_failed 1
      fail "release $BASE_RELEASE, to reuse unchanged files from, is gone"
    fi
    want_dir "$base" root "$WEB_GROUP"
    want_file "$base/.chom-manifest" root "$WEB_GROUP"
    files_of "$base" >"$work/base-now"
    # Links in the new release: no reused file goes where one points.
    find -P "$rel" -type l -printf '%P\n' >"$work/links"
    if ! awk -v manifest="$base/.chom-manifest" -v sealed="$base/.chom-files" -v now="$work/base-now" \
      -v links="$work/links" -f - "$rel/.chom-reuse" >"$work/reuse-paths" <<'AWK'; then
function path(line) { sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", line); return line }
BEGIN {
  while ((getline l < manifest) > 0) listed[l] = 1
  while ((getline l < sealed) > 0) was[path(l)] = l
  while ((getline l < now) > 0) is[path(l)] = l
  while ((getline l < links) > 0) link[l] = 1
}
{
  p = substr($0, 67)
  if (!($0 in listed) || !(p in was) || !(p in is) || was[p] != is[p]) { print "changed: " p > "/dev/stderr"; exit 1 }
  if (p in link) { print "a link: " p > "/dev/stderr"; exit 1 }
  for (d = p; sub(/\/[^\/]*$/, "", d);) if (d in link) { print "under a link: " p > "/dev/stderr"; exit 1 }
  print p
}
AWK
      value reuse_failed 1
      fail "release $BASE_RELEASE changed on the server since it was made; sending every file"
    fi
    (cd "$base" && xargs -r -d '\n' -a "$work/reuse-paths" cp -P -l --parents -t "$BASE/$rel" --) ||
      { disk_full "linking unchanged files"; value reuse_failed 1; fail "linking unchanged files from release $BASE_RELEASE failed"; }
  fi
  rm -f "$rel/.chom-reuse"
}

# git as root in a folder of root's, reading no configuration but this.
git_root() {
  env -i PATH="$PATH" HOME="$work" LC_ALL=C GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 \
    git -c protocol.ext.allow=never -c protocol.file.allow=never -c core.symlinks=true --git-dir="$work/repo" "$@" 9>&-
}

fetch_git() {
  git_root init -q --bare
  commit=FETCH_HEAD
  if ! err=$(git_root fetch -q --depth 1 -- "$GIT_URL" "$GIT_REF" 2>&1); then
    # Most servers give out only commits a branch or tag names at its
    # tip; an older commit id is found in the branches and tags.
    printf '%s' "$GIT_REF" | grep -qxE '[0-9a-f]{7,40}' ||
      fail "git fetch of $GIT_REF from $GIT_URL failed: $(printf '%s' "$err" | tail -2 | tr '\n' ' ')"
    err=$(git_root fetch -q -- "$GIT_URL" '+refs/heads/*:refs/chom/heads/*' '+refs/tags/*:refs/chom/tags/*' 2>&1) ||
      fail "git fetch from $GIT_URL failed: $(printf '%s' "$err" | tail -2 | tr '\n' ' ')"
    commit=$(git_root rev-parse -q --verify "$GIT_REF^{commit}") ||
      fail "commit $GIT_REF is not in any branch or tag of $GIT_URL"
  fi
  git_root --work-tree="$BASE/$rel" -c advice.detachedHead=false checkout -q -f "$commit"
}

fetch_download() {
  curl -q -fsSL --proto '=https,http' --max-time 300 -o "$work/src.tgz" "$DOWNLOAD_URL" 9>&- || fail "download of $DOWNLOAD_URL failed"
  if [ "$DOWNLOAD_SHA1" = "@fetch" ]; then
    DOWNLOAD_SHA1=$(curl -q -fsSL --proto '=https,http' --max-time 60 "$DOWNLOAD_URL.sha1" 9>&- | cut -c1-40) ||
      fail "cannot fetch the checksum $DOWNLOAD_URL.sha1"
  fi
  if [ -n "$DOWNLOAD_SHA1" ]; then
    sum=$(sha1sum "$work/src.tgz" | cut -d' ' -f1)
    [ "$sum" = "$DOWNLOAD_SHA1" ] || fail "checksum of $DOWNLOAD_URL is $sum, expected $DOWNLOAD_SHA1"
  fi
  unpack_into "$rel" -z --strip-components="$STRIP" <"$work/src.tgz" ||
    { disk_full "unpacking the download"; fail "unpacking $DOWNLOAD_URL failed (tar's messages are above)"; }
}

# Composer (when the release has no vendor/) and the build hook, as the
# site's user in a copy of the release; the result is unpacked as data
# into a fresh release.
build() {
  local b="$BASE/.build" tree
  [ "$KIND" = laravel ] && [ ! -d "$rel/vendor" ] && need_composer=1 || need_composer=""
  if [ -z "$need_composer" ] && [ -z "$BUILD_HOOK" ]; then
    seal_tree "$rel"
    return 0
  fi
  if [ -n "$BUILD_HOOK" ]; then
    [ -f "$rel/$BUILD_HOOK" ] && [ ! -L "$rel/$BUILD_HOOK" ] || fail "build hook $BUILD_HOOK is not in the release"
  fi
  built=1
  # Root's copy: the build may rewrite the one in its tree.
  if [ -f "$rel/.chom-manifest" ]; then cp -- "$rel/.chom-manifest" "$work/manifest"; fi
  rm -rf -- "$b"
  mkdir -m 700 -- "$b"
  mkdir -- "$b/tree" "$b/home"
  tar -C "$rel" -cf - --exclude=./.chom-partial . | tar -C "$b/tree" -xf -
  hand_over "$b"
  tree="$b/tree"
  SITE_HOME="$b/home"
  if [ -n "$need_composer" ]; then
    as_site "$tree" composer install --no-dev --no-interaction --prefer-dist --optimize-autoloader || fail "composer install failed"
  fi
  if [ -n "$BUILD_HOOK" ]; then
    as_site "$tree" sh "./$BUILD_HOOK" || fail "build hook $BUILD_HOOK failed"
  fi
  SITE_HOME=/nonexistent
  fresh_release
  site_pack "$tree" | unpack_into "$rel" || { disk_full "taking in the build's result"; fail "taking in the build's result failed"; }
  [ "$(cat "$work/pack.status" 2>/dev/null)" = 0 ] || fail "packing the build's result as $SITE_USER failed (tar's messages are above)"
  # The marker is root's, whatever the build put in its place.
  rm -rf -- "$rel/.chom-partial"
  : >"$rel/.chom-partial"
  rm -rf -- "$b"
  seal_tree "$rel" site
  keep_unbuilt
}

# After a build, the release's manifest lists only the files the build
# left as they were sent: root's copy of the manifest, checked against the
# regular files found without following links. The others are sent again
# by the next deploy.
keep_unbuilt() {
  rm -f -- "$rel/.chom-manifest"
  [ -f "$work/manifest" ] || return 0
  files_of "$rel" | awk -v manifest="$work/manifest" '
    { sub(/^[^ ]+ [^ ]+ [^ ]+ /, ""); file[$0] = 1 }
    END { while ((getline l < manifest) > 0) if (substr(l, 67) in file) print l }' >"$work/unbuilt"
  (cd "$rel" && sha256sum -c "$work/unbuilt" 2>/dev/null || true) | sed -n 's/: OK$//p' >"$work/unbuilt-ok"
  awk -v ok="$work/unbuilt-ok" 'BEGIN { while ((getline l < ok) > 0) keep[l] = 1 } substr($0, 67) in keep' \
    "$work/unbuilt" >"$rel/.chom-manifest"
  chown "root:$WEB_GROUP" -- "$rel/.chom-manifest"
  chmod 640 -- "$rel/.chom-manifest"
}

deploy() {
  case "$RELEASE" in *[!0-9a-z-]* | "") fail "bad release id" ;; esac
  lock
  ensure_layout
  # A disabled site has no vhost: the default server would answer the
  # health check, and a release would go live unproven.
  [ -L "/etc/nginx/sites-enabled/chom-$DOMAIN.conf" ] ||
    fail "$DOMAIN is disabled on this server, so its new release cannot be checked through nginx; enable it first (chom site enable $DOMAIN)"
  prev=$(serving)
  value previous "${prev:-none}"
  # Releases a killed deploy left half-made never went live: remove them.
  for r in releases/* releases/.*.new; do
    [ -d "$r" ] && [ ! -L "$r" ] || continue
    case "$r" in releases/.*.new) rm -rf -- "$r" ;; *) [ -f "$r/.chom-partial" ] && rm -rf -- "$r" ;; esac
  done
  rm -f next
  rel="releases/$RELEASE"
  [ -e "$rel" ] && { rel=""; fail "release $RELEASE exists already"; }
  work=$(mktemp -d)
  # A release that fails before the switch goes at once (the EXIT trap):
  # its files may be what filled the disk. One whose script is killed
  # keeps its marker, and the next deploy removes it.
  fresh_release

  step upload
  case "$SOURCE" in
    tgz)
      unpack_into "$rel" -z --strip-components="$STRIP" ||
        { disk_full "unpacking the release"; fail "unpacking the release failed (tar's messages are above)"; }
      [ -f "$rel/.chom-reuse" ] && reuse ;;
    git) fetch_git ;;
    download) fetch_download ;;
    *) fail "unknown source $SOURCE" ;;
  esac
  [ "$(find "$rel" -mindepth 1 -maxdepth 1 ! -name .chom-partial -print -quit)" ] || fail "the release is empty"

  step build
  build

  step shared
  open_release "$rel"
  link_shared "$rel"
  if [ "$KIND" = laravel ]; then
    as_site "$BASE/$rel" php artisan migrate --force && as_site "$BASE/$rel" php artisan config:cache &&
      as_site "$BASE/$rel" php artisan route:cache || fail "artisan (migrate, config and route caches) failed"
  fi

  # What the next deploy's reuse checks its files against.
  rm -f -- "$rel/.chom-files"
  [ ! -f "$rel/.chom-manifest" ] || files_of "$rel" >"$rel/.chom-files"

  step health
  ln -sfn "$rel" next
  if ! health preview; then
    rm -f next
    rm -rf -- "$rel"
    value serving "${prev:-none}"
    fail "$detail"
  fi
  rm -f next

  step switch
  client_alive || fail "the connection to CHOM was lost before the switch; $prev keeps serving"
  # Only now is the release whole and checked: until here the marker
  # makes the next deploy remove it and keeps rollbacks away from it.
  rm -f "$rel/.chom-partial"
  switch_to "$RELEASE"
  value release "$RELEASE"
  reload_php

  # The same check once live: what `next` proved must hold for `current`
  # (a release can depend on its own path). If not, the previous release
  # comes back at once.
  step verify
  if ! health live; then
    [ -n "$prev" ] || fail "the live site failed its check after the switch ($detail) and there is no earlier release to switch back to"
    switch_to "$prev"
    value release "$prev"
    reload_php
    rm -rf -- "$rel"
    fail "$detail"
  fi

  if [ "$KIND" = laravel ]; then
    printf '%s\n' "# Managed by CHOM: the Laravel scheduler of $DOMAIN." \
      "* * * * * $SITE_USER cd $BASE/current && umask 027 && php artisan schedule:run >/dev/null 2>&1" |
      put_file "/etc/cron.d/chom-$SITE_USER" 644 || true
    rm -f "/etc/cron.d/chom-$SITE_USER.chom-old"
  fi

  if [ -n "$POST_HOOK" ]; then
    step post-deploy
    [ -f "current/$POST_HOOK" ] || fail "post-deploy hook $POST_HOOK is not in the release (release $RELEASE is live)"
    as_site "$BASE/current" sh "./$POST_HOOK" || fail "post-deploy hook $POST_HOOK failed (release $RELEASE is live)"
  fi

  step prune
  keep=$KEEP newest_first=""
  for r in releases/*; do
    if [ -e "$r" ] || [ -L "$r" ]; then newest_first="${r#releases/} $newest_first"; fi
  done
  for r in $newest_first; do
    if [ "$r" = "$RELEASE" ] || [ "$r" = "$prev" ]; then continue; fi
    keep=$((keep - 1))
    if [ "$keep" -le 1 ]; then rm -rf -- "releases/$r"; fi
  done
  list
}

rollback() {
  lock
  ensure_layout
  cur=$(serving)
  if [ -n "$TO" ]; then
    target=$TO
  else
    target=$(ls -1 releases | sort -r | awk -v c="$cur" 'f { print; exit } $0 == c { f = 1 }')
    [ -n "$target" ] || fail "no release older than $cur to roll back to"
  fi
  [ -d "releases/$target" ] && [ ! -f "releases/$target/.chom-partial" ] || fail "release $target is not on the server"
  want_dir "releases/$target" root "$WEB_GROUP"
  [ "$target" = "$cur" ] && { unchanged "release $target is live already"; list; return; }
  step switch
  switch_to "$target"
  value release "$target"
  reload_php
  changed "rolled back from $cur to $target"
  list
}

# WordPress updates from its dashboard: on, the live release's plugins,
# themes and upgrade/ become the site's user's; off, every release's are
# taken back as data.
updates() {
  lock
  work=$(mktemp -d)
  ensure_layout
  [ "$KIND" = wordpress ] || fail "dashboard updates are for WordPress sites"
  cur=$(serving)
  if [ "$DASHBOARD_UPDATES" = 1 ]; then
    [ -n "$cur" ] || fail "no live release"
    for p in $(dashboard_dirs); do
      if [ ! -e "releases/$cur/$p" ]; then install -d -m 750 -o root -g "$WEB_GROUP" "releases/$cur/$p"; fi
      want_dir "releases/$cur/$p" "$(stat -c %U -- "releases/$cur/$p")" "$(stat -c %G -- "releases/$cur/$p")"
      give_tree "releases/$cur/$p"
    done
    # What the user may now write is sent by every deploy, never linked.
    forget_changed "releases/$cur"
    changed "$SITE_USER may now write $(dashboard_dirs) of release $cur (and of each new release)"
  else
    for r in releases/*; do
      for p in $(dashboard_dirs); do
        if [ -d "$r/$p" ] && [ ! -L "$r/$p" ]; then take_back_tree "$r/$p"; fi
      done
    done
    changed "$(dashboard_dirs) of every release are root's again"
  fi
}

# The live release's manifest, for a deploy to send only what changed:
# the lines of the files it recorded (root's; what the site's user may
# write, such as plugins with dashboard updates on, is always sent). None
# from a site whose layout root cannot trust yet, nor from a release whose
# files were not recorded (made before CHOM recorded them).
manifest() {
  cur=$(serving)
  if [ -n "$cur" ] && (check_layout) >/dev/null 2>&1 && [ -f "releases/$cur/.chom-manifest" ] &&
    recorded "releases/$cur" && [ "$(stat -c %U "releases/$cur")" = root ]; then
    value base "$cur"
    awk -v files="releases/$cur/.chom-files" '
      BEGIN { while ((getline l < files) > 0) { sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", l); recorded[l] = 1 } }
      substr($0, 67) in recorded' "releases/$cur/.chom-manifest"
  else
    value base ""
  fi
}

list() {
  local r kept="" partial=""
  value current "$(serving)"
  # Newest first; what a change that did not finish left: its lock still
  # held (its script still runs), or half-made releases (the next deploy
  # removes them).
  for r in releases/* releases/.*.new; do
    [ -d "$r" ] || continue
    case "$r" in
      releases/.*) partial="$partial${r#releases/} " ;;
      *) if [ -f "$r/.chom-partial" ]; then partial="$partial${r#releases/} "; else kept="${r#releases/} $kept"; fi ;;
    esac
  done
  value releases "$kept"
  value partial "$partial"
  # A job's own list (deploy, rollback) holds the lock itself.
  if [ -z "$holding_lock" ] && [ -d .chom ] && [ ! -L .chom ] && [ -f .chom/lock ] && [ ! -L .chom/lock ] &&
    ! flock -n .chom/lock true; then
    value busy "$(head -c 300 .chom/holder 2>/dev/null | tr -c '[:print:]' ' ')"
  fi
}

case "$ACTION" in
  deploy) deploy ;;
  rollback) rollback ;;
  releases) list ;;
  manifest) manifest ;;
  updates) updates ;;
  *) fail "unknown action $ACTION" ;;
esac

# chom deploy | rollback | releases | manifest for one site.
# Variables: ACTION, DOMAIN, BASE, SITE_USER, KIND, PHP, RELEASE, SOURCE
# (tgz: a .tar.gz on stdin | git | download), STRIP (tar components to drop),
# BASE_RELEASE (tgz: the release to copy the files listed in .chom-reuse from),
# GIT_URL, GIT_REF, DOWNLOAD_URL, DOWNLOAD_SHA1, SHARED (paths), BUILD_HOOK,
# POST_HOOK, HEALTH_PATH, HEALTH_TEXT, KEEP, TO (rollback target).
#
# A release goes live only by the rename of a `current` symlink, after it
# passed its health check through nginx as `next`. Until then `current` is
# untouched, whatever happens to this script or its connection. Once live it
# is checked again; if that fails, the previous release is switched back.

[ -f "$BASE/.chom/site" ] || fail "$DOMAIN is not a CHOM site on this server (no $BASE/.chom/site)"
for tool in curl flock runuser; do
  command -v "$tool" >/dev/null || fail "$tool is missing on this server; run chom server setup"
done
cd "$BASE"
parent=$(cut -d' ' -f4 "/proc/$$/stat")

# Deploys and rollbacks of a site run one at a time: the lock is held by
# this process, so it is released however the process ends.
lock() {
  exec 9>"$BASE/.chom/lock"
  if ! flock -n 9; then
    echo "@@chom value locked 1"
    fail "another deploy of $DOMAIN holds the lock"
  fi
}

# git in the new release, as the site user, with only network transports.
git_in_rel() { as_site git -c protocol.ext.allow=never -c protocol.file.allow=never -C "$rel" "$@"; }

serving() { readlink current 2>/dev/null | sed 's|^releases/||'; }

# The client's connection is gone if this shell lost its parent (sshd
# ended). Writing a step line to a closed channel also ends the script
# (SIGPIPE), so every step line is a check too.
client_alive() { [ "$(cut -d' ' -f4 "/proc/$$/stat")" = "$parent" ]; }

switch_to() {
  ln -sfn "releases/$1" .current.chom-new
  mv -T .current.chom-new current
}

reload_php() {
  if [ -n "$PHP" ]; then svc reload "php$PHP-fpm" >/dev/null 2>&1 || fail "php$PHP-fpm reload failed (release $(serving) is live)"; fi
}

# $1: preview (the new release as `next`, which nginx serves only to a
# request from 127.0.0.1 with X-Chom-Preview) or live (what everyone gets).
health() {
  local url code n=0 body ask
  if [ "$1" = preview ]; then ask='X-Chom-Preview: 1'; else ask='X-Chom-Check: live'; fi
  body=$(mktemp)
  if grep -q "listen 443" "/etc/nginx/sites-available/chom-$DOMAIN.conf" 2>/dev/null; then
    url="https://$DOMAIN$HEALTH_PATH"
  else
    url="http://$DOMAIN$HEALTH_PATH"
  fi
  # nginx resolves `next` per request; retries cover a reload in flight.
  while :; do
    code=$(curl -s -k -o "$body" -w '%{http_code}' --max-time 20 --resolve "$DOMAIN:80:127.0.0.1" \
      --resolve "$DOMAIN:443:127.0.0.1" -H "$ask" "$url" || true)
    case "$code" in
      2??|3??)
        if [ -z "$HEALTH_TEXT" ] || grep -qF -- "$HEALTH_TEXT" "$body"; then rm -f "$body"; echo "@@chom value health $code"; return 0; fi
        detail="HTTP $code without the expected text" ;;
      *) detail="HTTP ${code:-no answer} from $url" ;;
    esac
    n=$((n + 1))
    [ $n -ge 8 ] && break
    sleep 0.25
  done
  echo "@@chom value health_body $(head -c 300 "$body" | tr -c '[:print:]' ' ')"
  rm -f "$body"
  return 1
}

# The unchanged files (.chom-reuse: their manifest lines), copied from the
# live release the client compared with, then checked. Any mismatch asks
# the client for a full upload.
reuse() {
  if [ -s "$rel/.chom-reuse" ]; then
    case "$BASE_RELEASE" in *[!0-9a-z-]*|"") echo "@@chom value reuse_failed 1"; fail "no release to copy unchanged files from" ;; esac
    if [ ! -d "releases/$BASE_RELEASE" ]; then
      echo "@@chom value reuse_failed 1"
      fail "release $BASE_RELEASE, to copy unchanged files from, is gone"
    fi
    cut -c67- "$rel/.chom-reuse" >"$rel/.chom-reuse-paths"
    (cd "releases/$BASE_RELEASE" && as_site tar -cf - --no-recursion --verbatim-files-from -T "$BASE/$rel/.chom-reuse-paths") |
      as_site tar -xf - -C "$rel" --no-same-owner ||
      { disk_full "copying unchanged files"; echo "@@chom value reuse_failed 1"; fail "copying unchanged files from release $BASE_RELEASE failed"; }
    if ! (cd "$rel" && as_site sha256sum -c --quiet --strict .chom-reuse >/dev/null 2>&1); then
      echo "@@chom value reuse_failed 1"
      fail "the release does not match its manifest (files changed on the server since?)"
    fi
  fi
  rm -f "$rel/.chom-reuse" "$rel/.chom-reuse-paths"
}

# When writing the release failed on a full disk, says so in words an
# operator can act on (the release is removed on exit, freeing its space).
disk_full() {
  avail=$(df -Pk "$BASE/releases" 2>/dev/null | awk 'NR==2 {print $4}')
  if [ -n "$avail" ] && [ "$avail" -lt 1024 ]; then
    fail "the server's disk is full ($avail KiB left for $BASE/releases) while $1; the half-written release was removed: free some space, then deploy again"
  fi
}

deploy() {
  case "$RELEASE" in *[!0-9a-z-]*|"") fail "bad release id" ;; esac
  lock
  # A disabled site has no vhost: the default server would answer the
  # health check, and a release would go live unproven.
  [ -L "/etc/nginx/sites-enabled/chom-$DOMAIN.conf" ] ||
    fail "$DOMAIN is disabled on this server, so its new release cannot be checked through nginx; enable it first (chom site enable $DOMAIN)"
  prev=$(serving)
  echo "@@chom value previous ${prev:-none}"
  # Releases a killed deploy left half-made never went live: remove them.
  for r in releases/*; do [ -f "$r/.chom-partial" ] && rm -rf "$r"; done
  rm -f next
  rel="releases/$RELEASE"
  [ -e "$rel" ] && fail "release $RELEASE exists already"
  install -d -m 755 -o "$SITE_USER" -g "$SITE_USER" "$rel"
  touch "$rel/.chom-partial"
  # A release that fails before the switch goes at once: its files may be
  # what filled the disk. One whose script is killed keeps its marker, and
  # the next deploy removes it.
  trap 'hold_signals; if [ -f "$rel/.chom-partial" ]; then rm -rf "$rel"; fi' EXIT

  step upload
  case "$SOURCE" in
    tgz)
      as_site tar -xzf - -C "$rel" --no-same-owner --strip-components="$STRIP" ||
        { disk_full "unpacking the release"; fail "unpacking the release failed (tar's messages are above)"; }
      if [ -f "$rel/.chom-reuse" ]; then reuse; fi ;;
    git)
      as_site git -C "$rel" init -q
      commit=FETCH_HEAD
      if ! err=$(git_in_rel fetch -q --depth 1 -- "$GIT_URL" "$GIT_REF" 2>&1); then
        # Most servers give out only commits a branch or tag names at its
        # tip; an older commit id is found in the branches and tags.
        printf '%s' "$GIT_REF" | grep -qxE '[0-9a-f]{7,40}' ||
          fail "git fetch of $GIT_REF from $GIT_URL failed: $(printf '%s' "$err" | tail -2 | tr '\n' ' ')"
        err=$(git_in_rel fetch -q -- "$GIT_URL" '+refs/heads/*:refs/chom/heads/*' '+refs/tags/*:refs/chom/tags/*' 2>&1) ||
          fail "git fetch from $GIT_URL failed: $(printf '%s' "$err" | tail -2 | tr '\n' ' ')"
        commit=$(git_in_rel rev-parse -q --verify "$GIT_REF^{commit}") ||
          fail "commit $GIT_REF is not in any branch or tag of $GIT_URL"
      fi
      git_in_rel -c advice.detachedHead=false checkout -q "$commit"
      rm -rf "$rel/.git" ;;
    download)
      dl=$(mktemp -d); chmod 755 "$dl"
      curl -fsSL --max-time 300 -o "$dl/src.tgz" "$DOWNLOAD_URL" || { rm -rf "$dl"; fail "download of $DOWNLOAD_URL failed"; }
      if [ "$DOWNLOAD_SHA1" = "@fetch" ]; then
        DOWNLOAD_SHA1=$(curl -fsSL --max-time 60 "$DOWNLOAD_URL.sha1" | cut -c1-40) || { rm -rf "$dl"; fail "cannot fetch the checksum $DOWNLOAD_URL.sha1"; }
      fi
      if [ -n "$DOWNLOAD_SHA1" ]; then
        sum=$(sha1sum "$dl/src.tgz" | cut -d' ' -f1)
        [ "$sum" = "$DOWNLOAD_SHA1" ] || { rm -rf "$dl"; fail "checksum of $DOWNLOAD_URL is $sum, expected $DOWNLOAD_SHA1"; }
      fi
      as_site tar -xzf "$dl/src.tgz" -C "$rel" --no-same-owner --strip-components="$STRIP" ||
        { rm -rf "$dl"; disk_full "unpacking the download"; fail "unpacking $DOWNLOAD_URL failed (tar's messages are above)"; }
      rm -rf "$dl" ;;
    *) fail "unknown source $SOURCE" ;;
  esac
  [ -n "$(ls -A "$rel" | grep -v '^.chom-partial$')" ] || fail "the release is empty"

  step shared
  for p in $SHARED; do
    if [ ! -e "shared/$p" ] && [ -e "$rel/$p" ]; then
      # The first release seeds what is shared from then on.
      install -d -o "$SITE_USER" -g "$SITE_USER" "$(dirname "shared/$p")"
      mv "$rel/$p" "shared/$p"
    fi
    rm -rf "${rel:?}/$p"
    as_site mkdir -p "$(dirname "$rel/$p")"
    ln -s "$BASE/shared/$p" "$rel/$p"
  done

  step build
  if [ "$KIND" = laravel ]; then
    export COMPOSER_HOME="$BASE/.composer" HOME="$BASE"
    if [ ! -d "$rel/vendor" ]; then
      (cd "$rel" && as_site env COMPOSER_HOME="$BASE/.composer" composer install --no-dev --no-interaction --prefer-dist --optimize-autoloader) ||
        fail "composer install failed"
    fi
    (cd "$rel" && as_site php artisan migrate --force && as_site php artisan storage:link &&
      as_site php artisan config:cache && as_site php artisan route:cache) || fail "artisan (migrate, storage:link, caches) failed"
  fi
  if [ -n "$BUILD_HOOK" ]; then
    [ -f "$rel/$BUILD_HOOK" ] || fail "build hook $BUILD_HOOK is not in the release"
    (cd "$rel" && as_site sh "./$BUILD_HOOK") || fail "build hook $BUILD_HOOK failed"
  fi

  step health
  ln -sfn "$rel" next
  if ! health preview; then
    rm -f next
    rm -rf "$rel"
    echo "@@chom value serving ${prev:-none}"
    fail "$detail"
  fi
  rm -f next

  step switch
  client_alive || fail "the connection to CHOM was lost before the switch; $prev keeps serving"
  # Only now is the release whole and checked: until here the marker
  # makes the next deploy remove it and keeps rollbacks away from it.
  rm -f "$rel/.chom-partial"
  switch_to "$RELEASE"
  echo "@@chom value release $RELEASE"
  reload_php

  # The same check once live: what `next` proved must hold for `current`
  # (a release can depend on its own path). If not, the previous release
  # comes back at once.
  step verify
  if ! health live; then
    [ -n "$prev" ] || fail "the live site failed its check after the switch ($detail) and there is no earlier release to switch back to"
    switch_to "$prev"
    echo "@@chom value release $prev"
    reload_php
    rm -rf "$rel"
    fail "$detail"
  fi

  if [ "$KIND" = laravel ]; then
    printf '%s\n' "# Managed by CHOM: the Laravel scheduler of $DOMAIN." \
      "* * * * * $SITE_USER cd $BASE/current && php artisan schedule:run >/dev/null 2>&1" |
      put_file "/etc/cron.d/chom-$SITE_USER" 644 || true
    rm -f "/etc/cron.d/chom-$SITE_USER.chom-old"
  fi

  if [ -n "$POST_HOOK" ]; then
    step post-deploy
    [ -f "current/$POST_HOOK" ] || fail "post-deploy hook $POST_HOOK is not in the release (release $RELEASE is live)"
    (cd current && as_site sh "./$POST_HOOK") || fail "post-deploy hook $POST_HOOK failed (release $RELEASE is live)"
  fi

  step prune
  keep=$KEEP
  ls -1 releases | sort -r | while read -r r; do
    if [ "$r" = "$RELEASE" ] || [ "$r" = "$prev" ]; then continue; fi
    keep=$((keep - 1))
    if [ "$keep" -le 1 ]; then rm -rf "releases/$r"; fi
  done
  list
}

rollback() {
  lock
  cur=$(serving)
  if [ -n "$TO" ]; then
    target=$TO
  else
    target=$(ls -1 releases | sort -r | awk -v c="$cur" 'f { print; exit } $0 == c { f = 1 }')
    [ -n "$target" ] || fail "no release older than $cur to roll back to"
  fi
  [ -d "releases/$target" ] && [ ! -f "releases/$target/.chom-partial" ] || fail "release $target is not on the server"
  [ "$target" = "$cur" ] && { unchanged "release $target is live already"; list; return; }
  step switch
  switch_to "$target"
  echo "@@chom value release $target"
  reload_php
  changed "rolled back from $cur to $target"
  list
}

# The live release's manifest, for a deploy to send only what changed.
manifest() {
  cur=$(serving)
  if [ -n "$cur" ] && [ -f "releases/$cur/.chom-manifest" ]; then
    echo "@@chom value base $cur"
    cat "releases/$cur/.chom-manifest"
  else
    echo "@@chom value base "
  fi
}

list() {
  echo "@@chom value current $(serving)"
  echo "@@chom value releases $(for r in $(ls -1 releases | sort -r); do [ -f "releases/$r/.chom-partial" ] || printf '%s ' "$r"; done)"
}

case "$ACTION" in
  deploy) deploy ;;
  rollback) rollback ;;
  releases) list ;;
  manifest) manifest ;;
  *) fail "unknown action $ACTION" ;;
esac

# chom site create|enable|disable|repair|delete on one server.
# Variables: ACTION, DOMAIN, BASE, SITE_USER, WEB_GROUP, KIND, PHP (empty
# for static), VHOST (nginx config), POOL (PHP-FPM pool, empty for static),
# RELEASE (the placeholder release of a new site). `create` reads a tar on
# stdin with db.pass and the files for shared/ (secrets never go on a
# command line). Layout and ownership: layout.sh.

avail="/etc/nginx/sites-available/chom-$DOMAIN.conf"
enabled="/etc/nginx/sites-enabled/chom-$DOMAIN.conf"
pool="/etc/php/$PHP/fpm/pool.d/chom-$SITE_USER.conf"
marker="$BASE/.chom/site"
command -v nginx >/dev/null || fail "nginx is not installed; run chom server setup first"
work=""
trap 'exiting; [ -z "$work" ] || rm -rf -- "$work"' EXIT


# On a failed create, removes what this run made: the server is as before.
undo_create() {
  st=$?
  exiting
  rm -rf -- "$work"
  [ "$st" -eq 0 ] && return 0
  rm -f "$enabled" "$avail"
  if [ -n "$made_pool" ]; then rm -f "$pool"; svc reload "php$PHP-fpm" >/dev/null 2>&1 || true; fi
  if [ -n "$made_db" ]; then sql "DROP DATABASE IF EXISTS \`$SITE_USER\`; DROP USER IF EXISTS '$SITE_USER'@'localhost';" || true; fi
  if [ -n "$made_base" ]; then rm -rf -- "$BASE"; fi
  if [ -n "$made_user" ]; then
    pkill -KILL -u "$SITE_USER" 2>/dev/null || true
    userdel "$SITE_USER" >/dev/null 2>&1 || true
  fi
  if [ -n "$made_group" ]; then groupdel "$WEB_GROUP" >/dev/null 2>&1 || true; fi
  ev step rolled-back
}

create() {
  [ -e "$marker" ] && fail "$DOMAIN already exists on this server ($BASE); pick another domain or delete it first"
  if [ -e "$BASE" ] || [ -L "$BASE" ]; then fail "$BASE exists but was not made by CHOM; move it away first (nothing was changed)"; fi
  [ -e "$avail" ] && fail "$avail exists but is not a CHOM site; remove it first (nothing was changed)"
  if [ -n "$PHP" ]; then command -v "php-fpm$PHP" >/dev/null || fail "PHP $PHP (php$PHP-fpm) is not installed; run chom server setup with --php $PHP"; fi
  # Every site has a user and a group of its own: one of the same name
  # (another site's, or an account) is never shared.
  if id -u "$SITE_USER" >/dev/null 2>&1; then
    fail "a user named $SITE_USER exists already on this server; CHOM gives each site a user of its own: remove that user, or pick another domain (nothing was changed)"
  fi
  if getent group "$WEB_GROUP" >/dev/null; then
    fail "a group named $WEB_GROUP exists already on this server; remove it, or pick another domain (nothing was changed)"
  fi
  [ "$(stat -c %U -- /var/www)" = root ] || fail "/var/www is not root's; run chom server setup first"

  work=$(mktemp -d)
  made_user="" made_group="" made_db="" made_pool="" made_base=""
  trap undo_create EXIT
  tar -xf - -C "$work"

  step user
  useradd --system --user-group --home-dir "$BASE" --no-create-home --shell /usr/sbin/nologin "$SITE_USER"
  made_user=1
  groups_changed=""
  ensure_accounts
  made_base=1
  install -d -m 750 -o root -g "$WEB_GROUP" "$BASE" "$BASE/releases" "$BASE/shared" "$BASE/acme"
  install -d -m 700 "$BASE/.chom"
  printf '%s\n' "$DOMAIN $KIND" >"$marker"
  ensure_preview_token
  cd "$BASE"
  for p in $(secret_files); do
    if [ -f "$work/shared/$p" ]; then install -m 640 -o root -g "$SITE_USER" "$work/shared/$p" "shared/$p"; fi
  done
  for p in $(writable_dirs); do
    d=$(dirname "$p")
    [ "$d" = . ] || install -d -m 750 -o root -g "$WEB_GROUP" "shared/$d"
    make_writable_dir "shared/$p"
  done

  if [ -f "$work/db.pass" ]; then
    step database
    pass=$(cat "$work/db.pass")
    case "$pass" in *[!A-Za-z0-9]* | "") fail "internal: the generated database password has unexpected characters" ;; esac
    [ -z "$(sql "SHOW DATABASES LIKE '$SITE_USER'")" ] || fail "database $SITE_USER exists already; drop it or pick another domain"
    [ "$(sql "SELECT COUNT(*) FROM mysql.user WHERE user = '$SITE_USER'")" = 0 ] ||
      fail "database user $SITE_USER exists already; drop it or pick another domain"
    made_db=1
    sql "CREATE DATABASE \`$SITE_USER\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
         CREATE USER '$SITE_USER'@'localhost' IDENTIFIED BY '$pass';
         GRANT ALL PRIVILEGES ON \`$SITE_USER\`.* TO '$SITE_USER'@'localhost';"
  fi

  step placeholder
  rel="releases/$RELEASE"
  mkdir -m 700 "$rel" "$rel/public"
  page="<!doctype html><title>$DOMAIN</title><p>$DOMAIN is ready. Deploy a release with CHOM.</p>"
  printf '%s\n' "$page" >"$rel/index.html"
  cp "$rel/index.html" "$rel/public/index.html"
  seal_tree "$rel"
  open_release "$rel"
  link_shared "$rel"
  ln -s "releases/$RELEASE" current

  if [ -n "$POOL" ]; then
    step php-fpm
    printf '%s' "$POOL" | put_file "$pool" 644 || true
    made_pool=1
    fpm_apply "$pool"
  fi

  step nginx
  nginx_long_names || true
  put_vhost || true
  ln -sfn "$avail" "$enabled"
  nginx_apply "$avail" "$enabled"
  value release "$RELEASE"
}

toggle() {
  [ -e "$marker" ] || fail "$DOMAIN is not a CHOM site on this server"
  if [ "$1" = on ]; then
    [ -L "$enabled" ] && { unchanged "$DOMAIN is enabled"; return; }
    ln -sfn "$avail" "$enabled"
    if ! err=$(nginx -t 2>&1); then rm -f "$enabled"; fail "nginx -t rejected $DOMAIN's vhost; it stays disabled: $err"; fi
  else
    [ -L "$enabled" ] || { unchanged "$DOMAIN is disabled"; return; }
    rm -f "$enabled"
    nginx -t >/dev/null 2>&1 || { ln -sfn "$avail" "$enabled"; fail "nginx -t fails without $DOMAIN; left enabled"; }
  fi
  nginx_reload || fail "nginx reload failed"
  changed "$DOMAIN $1"
}

# Brings the site to CHOM's layout (a site of the layout before is
# converted; anything that looks tampered stops it and is reported), and
# its nginx config and PHP-FPM pool to what CHOM writes now.
repair() {
  [ -f "$marker" ] || fail "$DOMAIN is not a CHOM site on this server (no $marker)"
  cd "$BASE"
  lock
  work=$(mktemp -d)
  ensure_layout
  step nginx
  if put_vhost; then nginx_apply "$avail"; changed "nginx config of $DOMAIN"; else unchanged "nginx config of $DOMAIN"; fi
  if [ -n "$POOL" ]; then
    step php-fpm
    if printf '%s' "$POOL" | put_file "$pool" 644; then fpm_apply "$pool"; changed "PHP-FPM pool of $DOMAIN"; else unchanged "PHP-FPM pool of $DOMAIN"; fi
  fi
  unchanged "$DOMAIN has CHOM's layout: base, releases and secrets root's, $SITE_USER writes only $(user_writes)"
}

delete() {
  if [ ! -e "$marker" ] && [ ! -e "$avail" ] && ! id -u "$SITE_USER" >/dev/null 2>&1; then
    unchanged "$DOMAIN is not on this server"
    return
  fi
  step nginx
  rm -f "$enabled" "$avail"
  if nginx -t >/dev/null 2>&1; then nginx_reload || true; fi
  if [ -n "$PHP" ] && [ -f "$pool" ]; then
    step php-fpm
    rm -f "$pool"
    svc reload "php$PHP-fpm" >/dev/null 2>&1 || true
  fi
  # The site's processes end before its files and its user go: its pool
  # is gone, its cron entry next, then whatever still runs as its user.
  step processes
  rm -f "/etc/cron.d/chom-$SITE_USER"
  if id -u "$SITE_USER" >/dev/null 2>&1; then
    n=0
    while pgrep -u "$SITE_USER" >/dev/null 2>&1; do
      pkill -KILL -u "$SITE_USER" 2>/dev/null || true
      n=$((n + 1))
      [ "$n" -lt 50 ] || fail "processes of $SITE_USER do not end ($(pgrep -u "$SITE_USER" | tr '\n' ' ')); nothing else was removed"
      sleep 0.1
    done
  fi
  if [ -n "$PHP" ] && command -v mysql >/dev/null; then
    step database
    # With the copy a restore keeps for its undo (restore.sh).
    sql "DROP DATABASE IF EXISTS \`$SITE_USER\`; DROP DATABASE IF EXISTS \`chom_undo_$SITE_USER\`;
         DROP USER IF EXISTS '$SITE_USER'@'localhost';"
  fi
  step certificate
  if [ -d "/etc/letsencrypt/live/$DOMAIN" ]; then certbot delete --non-interactive --cert-name "$DOMAIN" >/dev/null 2>&1 || true; fi
  step files
  [ "$(stat -c %U -- /var/www)" = root ] || fail "/var/www is not root's; CHOM removes nothing under it"
  rm -rf -- "$BASE"
  if id -u "$SITE_USER" >/dev/null 2>&1; then
    err=$(userdel "$SITE_USER" 2>&1) || fail "could not remove the user $SITE_USER ($err); the site's files are gone: remove the user by hand (userdel $SITE_USER)"
  fi
  if getent group "$WEB_GROUP" >/dev/null; then
    err=$(groupdel "$WEB_GROUP" 2>&1) || fail "could not remove the group $WEB_GROUP ($err); remove it by hand (groupdel $WEB_GROUP)"
  fi
  changed "$DOMAIN deleted"
}

case "$ACTION" in
  create) create ;;
  enable) toggle on ;;
  disable) toggle off ;;
  repair) repair ;;
  delete) delete ;;
  *) fail "unknown action $ACTION" ;;
esac

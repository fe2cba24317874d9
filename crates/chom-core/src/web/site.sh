# chom site create|enable|disable|delete|vhost on one server.
# Variables: ACTION, DOMAIN, BASE, SITE_USER, KIND, PHP (empty for static),
# SHARED_DIRS (folders in shared/), VHOST (nginx config), POOL (PHP-FPM pool, empty for static), RELEASE (the
# placeholder release of a new site). `create` reads a tar on stdin with
# db.pass and the files for shared/ (secrets never go on a command line).

avail="/etc/nginx/sites-available/chom-$DOMAIN.conf"
enabled="/etc/nginx/sites-enabled/chom-$DOMAIN.conf"
pool="/etc/php/$PHP/fpm/pool.d/chom-$SITE_USER.conf"
marker="$BASE/.chom/site"
command -v nginx >/dev/null || fail "nginx is not installed; run chom server setup first"

sql() { mysql --protocol=socket -uroot -N -e "$1"; }

# On a failed create, removes what this run made: the server is as before.
undo_create() {
  st=$?
  hold_signals
  rm -rf "$secrets"
  [ "$st" -eq 0 ] && return 0
  rm -f "$enabled" "$avail"
  if [ -n "$made_pool" ]; then rm -f "$pool"; svc reload "php$PHP-fpm" >/dev/null 2>&1 || true; fi
  if [ -n "$made_db" ]; then sql "DROP DATABASE IF EXISTS \`$SITE_USER\`; DROP USER IF EXISTS '$SITE_USER'@'localhost';" || true; fi
  if [ -n "$made_base" ]; then rm -rf "$BASE"; fi
  if [ -n "$made_user" ]; then userdel "$SITE_USER" >/dev/null 2>&1 || true; fi
  echo "@@chom step rolled-back"
}

create() {
  [ -e "$marker" ] && fail "$DOMAIN already exists on this server ($BASE); pick another domain or delete it first"
  [ -e "$BASE" ] && fail "$BASE exists but was not made by CHOM; move it away first (nothing was changed)"
  [ -e "$avail" ] && fail "$avail exists but is not a CHOM site; remove it first (nothing was changed)"
  if [ -n "$PHP" ]; then command -v "php-fpm$PHP" >/dev/null || fail "PHP $PHP (php$PHP-fpm) is not installed; run chom server setup with --php $PHP"; fi

  secrets=$(mktemp -d)
  made_user="" made_db="" made_pool="" made_base=""
  trap undo_create EXIT
  tar -xf - -C "$secrets"

  step user
  if ! id -u "$SITE_USER" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir "$BASE" --no-create-home --shell /usr/sbin/nologin "$SITE_USER"
    made_user=1
  fi
  made_base=1
  install -d -m 755 -o "$SITE_USER" -g "$SITE_USER" "$BASE" "$BASE/releases" "$BASE/shared" "$BASE/acme"
  install -d -m 700 "$BASE/.chom"
  for p in $SHARED_DIRS; do install -d -m 755 -o "$SITE_USER" -g "$SITE_USER" "$BASE/shared/$p"; done
  if [ -d "$secrets/shared" ]; then
    (cd "$secrets/shared" && find . -type f) | while read -r f; do
      install -D -m 600 -o "$SITE_USER" -g "$SITE_USER" "$secrets/shared/$f" "$BASE/shared/$f"
    done
  fi

  if [ -f "$secrets/db.pass" ]; then
    step database
    pass=$(cat "$secrets/db.pass")
    case "$pass" in *[!A-Za-z0-9]*|"") fail "internal: the generated database password has unexpected characters" ;; esac
    [ -z "$(sql "SHOW DATABASES LIKE '$SITE_USER'")" ] || fail "database $SITE_USER exists already; drop it or pick another domain"
    [ "$(sql "SELECT COUNT(*) FROM mysql.user WHERE user = '$SITE_USER'")" = 0 ] ||
      fail "database user $SITE_USER exists already; drop it or pick another domain"
    made_db=1
    sql "CREATE DATABASE \`$SITE_USER\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
         CREATE USER '$SITE_USER'@'localhost' IDENTIFIED BY '$pass';
         GRANT ALL PRIVILEGES ON \`$SITE_USER\`.* TO '$SITE_USER'@'localhost';"
  fi

  step placeholder
  rel="$BASE/releases/$RELEASE"
  install -d -m 755 -o "$SITE_USER" -g "$SITE_USER" "$rel" "$rel/public"
  page="<!doctype html><title>$DOMAIN</title><p>$DOMAIN is ready. Deploy a release with CHOM.</p>"
  printf '%s\n' "$page" >"$rel/index.html"; cp "$rel/index.html" "$rel/public/index.html"
  chown "$SITE_USER:$SITE_USER" "$rel/index.html" "$rel/public/index.html"
  ln -sfn "releases/$RELEASE" "$BASE/current"
  printf '%s\n' "$DOMAIN $KIND" >"$marker"

  if [ -n "$POOL" ]; then
    step php-fpm
    printf '%s' "$POOL" | put_file "$pool" 644 || true
    made_pool=1
    fpm_apply "$pool"
  fi

  step nginx
  nginx_long_names || true
  printf '%s' "$VHOST" | put_file "$avail" 644 || true
  ln -sfn "$avail" "$enabled"
  nginx_apply "$avail" "$enabled"
  echo "@@chom value release $RELEASE"
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

vhost() {
  [ -e "$marker" ] || fail "$DOMAIN is not a CHOM site on this server"
  step nginx
  if printf '%s' "$VHOST" | put_file "$avail" 644; then nginx_apply "$avail"; changed "vhost of $DOMAIN"; else unchanged "vhost of $DOMAIN"; fi
}

delete() {
  [ -e "$marker" ] || [ -e "$avail" ] || id -u "$SITE_USER" >/dev/null 2>&1 || { unchanged "$DOMAIN is not on this server"; return; }
  step nginx
  rm -f "$enabled" "$avail"
  if nginx -t >/dev/null 2>&1; then nginx_reload || true; fi
  if [ -n "$PHP" ] && [ -f "$pool" ]; then
    step php-fpm
    rm -f "$pool"
    svc reload "php$PHP-fpm" >/dev/null 2>&1 || true
  fi
  if [ -n "$PHP" ] && command -v mysql >/dev/null; then
    step database
    sql "DROP DATABASE IF EXISTS \`$SITE_USER\`; DROP USER IF EXISTS '$SITE_USER'@'localhost';"
  fi
  step certificate
  if [ -d "/etc/letsencrypt/live/$DOMAIN" ]; then certbot delete --non-interactive --cert-name "$DOMAIN" >/dev/null 2>&1 || true; fi
  step files
  rm -f "/etc/cron.d/chom-$SITE_USER"
  rm -rf "$BASE"
  id -u "$SITE_USER" >/dev/null 2>&1 && userdel "$SITE_USER" >/dev/null 2>&1 || true
  changed "$DOMAIN deleted"
}

case "$ACTION" in
  create) create ;;
  enable) toggle on ;;
  disable) toggle off ;;
  vhost) vhost ;;
  delete) delete ;;
  *) fail "unknown action $ACTION" ;;
esac

# chom server setup: the web stack, firewall, SSH hardening, deploy user.
# Idempotent: each part checks first and says "changed" or "unchanged".
# Variables: PHP, SSH_PORT, DEPLOY_USER, DEPLOY_KEY.

[ "$(id -u)" = 0 ] || fail "setup needs root: log in as root (the server's user in CHOM), or give this user passwordless sudo"

step packages
pkgs="nginx php$PHP-fpm php$PHP-cli php$PHP-mysql php$PHP-curl php$PHP-mbstring php$PHP-xml mariadb-server certbot ufw curl cron git composer restic"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  update_err=""
  apt-get update -qq >/dev/null 2>&1 || update_err=1
  # A package the sources do not have (a PHP version this release does not
  # ship) is named as such, whether or not the update reached the mirrors.
  unavailable=""
  for p in $missing; do apt-cache show "$p" >/dev/null 2>&1 || unavailable="$unavailable $p"; done
  if [ -n "$unavailable" ]; then
    release=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
    fail "no package$unavailable in this server's apt sources (${release:-unknown release}); for a PHP version the release does not ship, add a repository that has it first"
  fi
  [ -z "$update_err" ] || fail "apt-get update failed (no network or broken sources?); missing:$missing"
  # shellcheck disable=SC2086
  if ! err=$(apt-get install -y -qq --no-install-recommends $missing 2>&1 >/dev/null); then
    fail "installing$missing failed: $(printf '%s\n' "$err" | grep '^E:' | tail -2 | tr '\n' ' ')"
  fi
  changed "packages installed:$missing"
else
  unchanged "packages (nginx, PHP $PHP, MariaDB, certbot, ufw, cron, composer, restic) present"
fi

step services
for s in nginx "php$PHP-fpm" mariadb cron; do
  if svc_running "$s"; then
    unchanged "$s running"
  else
    svc start "$s" >/dev/null 2>&1 || fail "$s does not start; see its log under /var/log"
    changed "$s started"
  fi
  svc_enable "$s" >/dev/null 2>&1 || true
done

step php-fpm
# Every process of a site makes its files for itself and its group only
# (umask 027): PHP-FPM's pools inherit their master's umask, set where the
# service starts (a systemd drop-in, or the file Debian's init script
# sources: /etc/default/php-fpmX.Y).
fpm_umask_changed=""
if [ -d /run/systemd/system ]; then
  mkdir -p "/etc/systemd/system/php$PHP-fpm.service.d"
  if printf '%s\n' "# Added by CHOM: files PHP-FPM's pools make are not for other users." "[Service]" "UMask=0027" |
    put_file "/etc/systemd/system/php$PHP-fpm.service.d/chom-umask.conf" 644; then
    systemctl daemon-reload
    fpm_umask_changed=1
  fi
elif ! grep -qx 'umask 027' "/etc/default/php-fpm$PHP" 2>/dev/null; then
  printf '%s\n' "# Added by CHOM: files PHP-FPM's pools make are not for other users." "umask 027" >>"/etc/default/php-fpm$PHP"
  fpm_umask_changed=1
fi
master=$(cat "/run/php/php$PHP-fpm.pid" 2>/dev/null || true)
if [ -n "$fpm_umask_changed" ] || [ -z "$master" ] || [ "$(sed -n 's/^Umask:[[:space:]]*//p' "/proc/$master/status" 2>/dev/null)" != 0027 ]; then
  svc restart "php$PHP-fpm" >/dev/null 2>&1 || fail "php$PHP-fpm does not restart; see its log under /var/log"
  changed "php$PHP-fpm: pools make files with umask 027"
else
  unchanged "php$PHP-fpm umask 027"
fi

step nginx
if nginx_long_names; then
  nginx -t >/dev/null 2>&1 || { rm -f /etc/nginx/conf.d/chom-server-names.conf; fail "nginx -t fails with server_names_hash_bucket_size; removed it again"; }
  nginx_reload || fail "nginx reload failed"
  changed "nginx: room for long domain names (server_names_hash_bucket_size 256)"
else
  unchanged "nginx server names hash"
fi

step firewall
fw_changed=""
status=$(ufw status verbose 2>/dev/null || true)
for port in "$SSH_PORT" 80 443; do
  # Allow before enabling, so the SSH session never loses its port.
  if ! printf '%s\n' "$status" | grep -Eq "^$port/tcp +ALLOW IN +Anywhere *$"; then
    ufw allow "$port/tcp" >/dev/null
    fw_changed="$fw_changed allow $port/tcp;"
  fi
done
if ! printf '%s\n' "$status" | grep -q "^Default: deny (incoming)"; then
  ufw default deny incoming >/dev/null
  fw_changed="$fw_changed deny incoming by default;"
fi
if ! printf '%s\n' "$status" | grep -q "^Status: active"; then
  ufw --force enable >/dev/null
  fw_changed="$fw_changed enabled;"
fi
if [ -n "$fw_changed" ]; then changed "ufw:$fw_changed"; else unchanged "ufw (deny incoming; $SSH_PORT, 80, 443 open)"; fi

step deploy-user
if id -u "$DEPLOY_USER" >/dev/null 2>&1; then
  unchanged "user $DEPLOY_USER exists"
else
  useradd --create-home --shell /bin/bash "$DEPLOY_USER"
  changed "user $DEPLOY_USER created"
fi
home=$(getent passwd "$DEPLOY_USER" | cut -d: -f6)
# The deploy user's own files are changed as that user: a link it planted
# in its home leads nowhere it could not write itself.
case "$DEPLOY_KEY" in *"
"*) fail "the deploy key has more than one line" ;; esac
added=$(runuser -u "$DEPLOY_USER" -- env -i PATH=/usr/bin:/bin HOME="$home" sh -c '
  umask 077
  cd "$HOME" || exit 3
  mkdir -p .ssh
  touch .ssh/authorized_keys
  chmod 700 .ssh
  chmod 600 .ssh/authorized_keys
  if grep -qxF -- "$1" .ssh/authorized_keys; then echo no; else printf "%s\n" "$1" >>.ssh/authorized_keys; echo yes; fi
' chom-setup "$DEPLOY_KEY" </dev/null 9>&-) || fail "writing ~$DEPLOY_USER/.ssh/authorized_keys as $DEPLOY_USER failed"
if [ "$added" = yes ]; then
  changed "$DEPLOY_USER accepts the server's CHOM key"
else
  unchanged "$DEPLOY_USER accepts the server's CHOM key"
fi
if [ "$(stat -c %U -- /var/www 2>/dev/null || echo root)" != root ] || [ -L /var/www ]; then
  fail "/var/www is not a folder of root's; CHOM keeps its sites there: make it root's (chown root:root /var/www)"
fi
install -d -m 755 /var/www

step ssh-hardening
conf=/etc/ssh/sshd_config.d/01-chom-hardening.conf
if printf '%s\n' "# Managed by CHOM (chom server setup): logins by key only." \
    "PasswordAuthentication no" "KbdInteractiveAuthentication no" "PermitEmptyPasswords no" \
    "PermitRootLogin prohibit-password" | put_file "$conf" 644; then
  if ! err=$(sshd -t 2>&1); then
    restore_file "$conf"
    fail "the hardened sshd configuration does not pass sshd -t ($err); put back the previous one"
  fi
  effective=$(sshd -T 2>/dev/null | grep -Ei '^(passwordauthentication|permitrootlogin) ' | tr '\n' ' ')
  # Root by key only, or stricter (no root login at all) is what counts.
  case "$effective" in
    *"passwordauthentication no"*) ;;
    *) restore_file "$conf"; fail "another sshd_config file turns password logins back on ($effective); put back the previous configuration" ;;
  esac
  case "$effective" in
    *"permitrootlogin without-password"*|*"permitrootlogin prohibit-password"*|*"permitrootlogin no"*|*"permitrootlogin forced-commands-only"*) ;;
    *) restore_file "$conf"; fail "another sshd_config file allows root password logins ($effective); put back the previous configuration" ;;
  esac
  reload_sshd || { restore_file "$conf"; fail "reloading sshd failed; put back the previous configuration"; }
  value sshd_changed 1
  changed "sshd: password and keyboard-interactive logins off, root by key only"
else
  unchanged "sshd hardening (keys only, root by key)"
fi

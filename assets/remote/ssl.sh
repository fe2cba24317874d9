# chom ssl issue | status for one site.
# Variables: ACTION, DOMAIN, BASE, SITE_USER, WEB_GROUP, KIND, NAMES (domain
# and aliases), ACME_URL, ACME_CA (PEM of a custom ACME server's CA, or
# empty), EMAIL (or empty), VHOST (the vhost with HTTPS). certbot, as root,
# writes its HTTP-01 files into the site's acme/, a folder of root's: a
# site of the layout before is brought to CHOM's layout first (layout.sh).

cert="/etc/letsencrypt/live/$DOMAIN/cert.pem"

expiry() {
  [ -f "$cert" ] || { value expires none; return; }
  end=$(openssl x509 -enddate -noout -in "$cert" | cut -d= -f2)
  value expires "$(date -d "$end" +%s)"
  value issuer "$(openssl x509 -issuer -noout -in "$cert" | sed 's/^issuer=//')"
}

issue() {
  [ -f "$BASE/.chom/site" ] || fail "$DOMAIN is not a CHOM site on this server"
  command -v certbot >/dev/null || fail "certbot is not installed; run chom server setup first"
  cd "$BASE"
  lock
  # The HTTPS vhost goes in only once the certificate exists.
  https_vhost=$VHOST VHOST=""
  work=$(mktemp -d)
  ensure_layout
  rm -rf -- "$work"
  VHOST=$https_vhost
  want_dir "$BASE/acme" root "$WEB_GROUP"
  step certificate
  if [ -n "$ACME_CA" ]; then
    install -d -m 755 /etc/chom
    printf '%s\n' "$ACME_CA" | put_file /etc/chom/acme-ca.pem 644 || true
    rm -f /etc/chom/acme-ca.pem.chom-old
    export REQUESTS_CA_BUNDLE=/etc/chom/acme-ca.pem
  else
    # A preset bundle (from the environment) must not replace the system's.
    unset REQUESTS_CA_BUNDLE
  fi
  if [ -d /run/systemd/system ]; then hook="systemctl reload nginx"; else hook="service nginx reload"; fi
  set -- certonly --non-interactive --agree-tos --keep-until-expiring --server "$ACME_URL" \
    --webroot -w "$BASE/acme" --cert-name "$DOMAIN" --deploy-hook "$hook"
  if [ -n "$EMAIL" ]; then set -- "$@" -m "$EMAIL"; else set -- "$@" --register-unsafely-without-email; fi
  for n in $NAMES; do set -- "$@" -d "$n"; done
  if ! out=$(certbot "$@" 2>&1 9>&-); then
    fail "certbot could not get a certificate: $(printf '%s' "$out" | grep -iE 'detail|error|problem' | head -3 | tr '\n' ' ')"
  fi

  step renewal
  if [ -d /run/systemd/system ] && systemctl is-enabled --quiet certbot.timer 2>/dev/null; then
    unchanged "renewal by certbot.timer"
  elif [ -n "$ACME_CA" ]; then
    # certbot's own cron entry has no CA bundle for a custom ACME server.
    printf '%s\n' "# Managed by CHOM: renew certificates from a custom ACME server." \
      "REQUESTS_CA_BUNDLE=/etc/chom/acme-ca.pem" \
      "17 */12 * * * root certbot -q renew" | put_file /etc/cron.d/chom-certbot 644 || true
    rm -f /etc/cron.d/chom-certbot.chom-old
    changed "renewal by cron (/etc/cron.d/chom-certbot)"
  else
    [ -f /etc/cron.d/certbot ] || fail "no certbot timer or cron entry on this server; reinstall the certbot package"
    unchanged "renewal by certbot's cron entry"
  fi

  step nginx
  if put_vhost; then
    nginx_apply "/etc/nginx/sites-available/chom-$DOMAIN.conf"
  fi
  expiry
}

case "$ACTION" in
  issue) issue ;;
  status) expiry ;;
  *) fail "unknown action $ACTION" ;;
esac

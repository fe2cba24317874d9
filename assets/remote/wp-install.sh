# Finishes a WordPress install through its own installer (as a browser
# would), over the server's nginx. Variables: DOMAIN, TITLE, ADMIN_USER,
# ADMIN_EMAIL. The admin password comes on stdin.

step wordpress-install
dir=$(mktemp -d)
chmod 700 "$dir"
trap 'exiting; rm -rf "$dir"' EXIT
cat >"$dir/pw"
[ -s "$dir/pw" ] || fail "no admin password given"
scheme=http
grep -q "listen 443" "/etc/nginx/sites-available/chom-$DOMAIN.conf" 2>/dev/null && scheme=https
url="$scheme://$DOMAIN/wp-admin/install.php?step=2"
code=$(curl -q -s -k -o "$dir/body" -w '%{http_code}' --max-time 120 --resolve "$DOMAIN:80:127.0.0.1" \
  --resolve "$DOMAIN:443:127.0.0.1" \
  --data-urlencode "weblog_title=$TITLE" --data-urlencode "user_name=$ADMIN_USER" \
  --data-urlencode "admin_password@$dir/pw" --data-urlencode "admin_password2@$dir/pw" --data "pw_weak=1" \
  --data-urlencode "admin_email=$ADMIN_EMAIL" --data "blog_public=0" --data "language=" "$url" || true)
if grep -q "Success!" "$dir/body"; then
  changed "WordPress installed; admin user $ADMIN_USER"
elif grep -qi "already installed" "$dir/body"; then
  unchanged "WordPress was installed already"
else
  fail "the WordPress installer answered HTTP $code: $(sed 's/<[^>]*>//g' "$dir/body" | tr -s ' \n' ' ' | head -c 300)"
fi

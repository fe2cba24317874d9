#!/usr/bin/env bash
# measure prints several fields, which row takes as separate words:
# shellcheck disable=SC2046
# Site benchmark on a lab web host (198.18.250.2: sshd, nginx, PHP-FPM,
# MariaDB in its own namespaces) with pebble for certificates:
#   - a static site of 1,000 files / 20 MB: `chom deploy` (stream, health
#     check, switch) first, unchanged and with one file changed, side by
#     side with `rsync -a` over OpenSSH into a fresh folder, unchanged and
#     with one file changed;
#   - WordPress from `chom site create` to its installed front page, and
#     with `chom ssl issue` after it.
# Prints a Markdown table: median wall time of REPEAT runs (default 3),
# client CPU, peak client memory, and whether every run succeeded.
#
# Usage: bench/sites.sh   (root; runs in its own keyring session)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CHOM_BENCH_IN_KEYRING:-}" ]; then
  scripts/install-deps.sh lab web gui
  CHOM_BENCH_IN_KEYRING=1 exec scripts/with-keyring.sh "$0" "$@"
fi
REPEAT=${REPEAT:-3}
INDEX=250
cargo build --release --locked -q -p chom-cli -p chom-lab
BIN="${CARGO_TARGET_DIR:-target}/release"
WORK=$(mktemp -d /tmp/chom-sites-bench-XXXXXX)
cleanup() { "$BIN/chom-lab" web-down --dir "$WORK/web" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
M="python3 bench/measure.py"
D="$WORK/data"
C=("$BIN/chom" --data-dir "$D" --command-timeout 300)

"${C[@]}" key generate bench >/dev/null
"${C[@]}" key export-public bench >"$WORK/bench.pub"
"$BIN/chom-lab" web-up --hosts 1 --first $INDEX --root-key "$WORK/bench.pub" --pebble --dir "$WORK/web" >"$WORK/web.txt"
CA=$(awk '/^pebble/ {print $3}' "$WORK/web.txt")
ADDR=198.18.$INDEX.2
"${C[@]}" server add web --host $ADDR --user root --key bench >/dev/null
"${C[@]}" server trust web --trust-on-first-use >/dev/null

# rsync logs in with a key of its own, added to root's authorized keys.
ssh-keygen -q -t ed25519 -N '' -C rsync -f "$WORK/id"
INIT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][0]["init"])' "$WORK/web/web.json")
nsenter -t "$INIT" -a sh -c "cat >> /etc/ssh/authorized_keys/root" <"$WORK/id.pub"
SSH="ssh -i $WORK/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error"

# 1,000 files, 20 MB: 900 pages (text) and 100 images (random bytes).
SITE="$WORK/site"
python3 - "$SITE" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(10):
    os.makedirs(f"{root}/section{d}/img", exist_ok=True)
    for i in range(90):
        words = " ".join(f"word{(d * 90 + i + k) % 997}" for k in range(800))
        open(f"{root}/section{d}/page{i}.html", "w").write(f"<!doctype html><h1>Page {d}-{i}</h1><p>{words}</p>\n")
    for i in range(10):
        open(f"{root}/section{d}/img/photo{i}.jpg", "wb").write(os.urandom(155_000))
open(f"{root}/index.html", "w").write("<!doctype html><h1>Benchmark site</h1>\n")
PY
echo "site: $(find "$SITE" -type f | wc -l) files, $(du -sm "$SITE" | cut -f1) MB" >&2

# shellcheck source=bench/lib.sh
source bench/lib.sh
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); echo "  $1: $2 s, cpu $3 s, $4 MiB, all ok: $5" >&2; }

# A first deploy goes to a site with nothing to reuse: one new site per run.
for ((i = 1; i <= REPEAT; i++)); do "${C[@]}" site create "first$i.example.test" --kind static --server web >/dev/null; done
row "chom deploy, 1,000 files / 20 MB, first release of a site" \
  $(for ((i = 1; i <= REPEAT; i++)); do
      $M "${C[@]}" deploy "first$i.example.test" --from "$SITE" --expect "Benchmark site" --keep 3
    done | median)
row "chom deploy, unchanged content again (only the manifest is sent)" \
  $(measure "${C[@]}" deploy first1.example.test --from "$SITE" --expect "Benchmark site" --keep 3)
row "rsync -a over OpenSSH, into an empty folder" \
  $(PRE="$SSH root@$ADDR 'rm -rf /var/www/rsync-copy'" measure rsync -a -e "$SSH" "$SITE/" "root@$ADDR:/var/www/rsync-copy/")
row "rsync -a over OpenSSH, unchanged" $(measure rsync -a -e "$SSH" "$SITE/" "root@$ADDR:/var/www/rsync-copy/")
# One page rewritten before each run (untimed), the other 999 files as they were.
ONE="$SITE/section3/page7.html"
row "chom deploy, one file changed" \
  $(PRE="date +%s%N >>$ONE" measure "${C[@]}" deploy first1.example.test --from "$SITE" --expect "Benchmark site" --keep 3)
row "rsync -a over OpenSSH, one file changed" \
  $(PRE="date +%s%N >>$ONE" measure rsync -a -e "$SSH" "$SITE/" "root@$ADDR:/var/www/rsync-copy/")

# WordPress: one script per run (each its own domain), timed whole.
tar -C /usr/share -chzf "$WORK/wordpress.tar.gz" wordpress
for kind in plain cert; do
  for ((i = 1; i <= REPEAT; i++)); do
    cat >"$WORK/wp-$kind-$i.sh" <<EOF
set -e
C=($BIN/chom --data-dir $D --command-timeout 300)
d=wp-$kind-$i.example.test
if [ $kind = cert ]; then $BIN/chom-lab pebble-a --dir $WORK/web --domain \$d; fi
"\${C[@]}" site create \$d --kind wordpress --server web --tarball $WORK/wordpress.tar.gz --wp-title "Bench $i" >/dev/null
curl -sf -H "Host: \$d" http://$ADDR/ | grep -q "<title>Bench $i</title>"
if [ $kind = cert ]; then "\${C[@]}" ssl issue \$d --acme-url https://198.18.255.1:14000/dir --acme-ca $CA >/dev/null; fi
EOF
  done
done
row "WordPress: chom site create to its installed front page" \
  $(for ((i = 1; i <= REPEAT; i++)); do $M bash "$WORK/wp-plain-$i.sh"; done | median)
row "WordPress with its certificate (create, then chom ssl issue from pebble)" \
  $(for ((i = 1; i <= REPEAT; i++)); do $M bash "$WORK/wp-cert-$i.sh"; done | median)

echo
echo "Sites on a lab web host ($(nproc) cores, shared with the host's services), median of $REPEAT runs:"
echo
echo "| What | Wall (s) | Client CPU (s) | Peak client memory (MiB) | All runs ok |"
echo "|---|---:|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "References from the issue: the CHOM web platform took 52 s per site deploy; WordPress plus a certificate by hand on a lab host took 4.4 s."

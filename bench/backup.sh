#!/usr/bin/env bash
# measure prints several fields, which row takes as separate words:
# shellcheck disable=SC2046
# Backup benchmark on a lab web host (198.18.251.2: sshd, nginx, PHP-FPM,
# MariaDB in its own namespaces): a WordPress site with 500 MB of uploads
# (half compressible text, half random bytes, 500 files) and a 50 MB
# database.
#   - chom backup create: first (into a fresh repository), unchanged, after
#     1 % of the files changed; chom backup check (all data read back),
#     drill, restore into the same site;
#   - side by side, the same restic commands run by hand over OpenSSH
#     (files, then mysqldump into restic backup --stdin; restic restore and
#     the dump loaded back), and tar | zstd plus mysqldump | zstd over ssh
#     to this computer.
# Prints a Markdown table: median wall time of REPEAT runs (default 3),
# client CPU, peak client memory, and whether every run succeeded.
#
# Usage: bench/backup.sh   (root; runs in its own keyring session)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CHOM_BENCH_IN_KEYRING:-}" ]; then
  scripts/install-deps.sh lab web gui
  CHOM_BENCH_IN_KEYRING=1 exec scripts/with-keyring.sh "$0" "$@"
fi
REPEAT=${REPEAT:-3}
INDEX=251
cargo build --release --locked -q -p chom-cli -p chom-lab
BIN="${CARGO_TARGET_DIR:-target}/release"
WORK=$(mktemp -d /tmp/chom-backup-bench-XXXXXX)
cleanup() { "$BIN/chom-lab" web-down --dir "$WORK/web" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
D="$WORK/data"
C=("$BIN/chom" --data-dir "$D" --command-timeout 900)
DOMAIN=bench.example.test
BASE=/var/www/$DOMAIN
DB=w_bench_example_test

"${C[@]}" key generate bench >/dev/null
"${C[@]}" key export-public bench >"$WORK/bench.pub"
"$BIN/chom-lab" web-up --hosts 1 --first $INDEX --root-key "$WORK/bench.pub" --dir "$WORK/web" >"$WORK/web.txt"
ADDR=198.18.$INDEX.2
"${C[@]}" server add web --host $ADDR --user root --key bench >/dev/null
"${C[@]}" server trust web --trust-on-first-use >/dev/null
INIT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][0]["init"])' "$WORK/web/web.json")
on_host() { nsenter -t "$INIT" -a sh -c "$1"; }

# The by-hand tools log in with a key of their own.
ssh-keygen -q -t ed25519 -N '' -C bench -f "$WORK/id"
on_host "cat >> /etc/ssh/authorized_keys/root" <"$WORK/id.pub"
SSH="ssh -i $WORK/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error root@$ADDR"

tar -C /usr/share -chzf "$WORK/wordpress.tar.gz" wordpress
"${C[@]}" site create $DOMAIN --kind wordpress --server web --tarball "$WORK/wordpress.tar.gz" >/dev/null
RELEASE=$("${C[@]}" --json site show $DOMAIN | python3 -c 'import json,sys; print(json.load(sys.stdin)["site"]["current_release"])')
# 500 files of 1 MB in uploads: 250 of text, 250 random; 50 MB of rows.
on_host "cd $BASE/shared/wp-content/uploads && mkdir -p bench && cd bench &&
  for i in \$(seq 1 250); do yes \"line \$i of a compressible upload, the same words again and again\" | head -c 1000000 > text\$i.txt; done &&
  for i in \$(seq 1 250); do head -c 1000000 /dev/urandom > random\$i.bin; done && chown -R w_bench_example_test: ."
on_host "mysql $DB -e 'CREATE TABLE bench_rows (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT)' &&
  for i in \$(seq 1 50); do
    printf 'INSERT INTO bench_rows (body) VALUES %s;\n' \"\$(for j in \$(seq 1 100); do printf \"(REPEAT(MD5(RAND()), 312)),\"; done | sed 's/,\$//')\";
  done | mysql $DB"
echo "site: $(on_host "du -sm $BASE/shared | cut -f1") MB in shared/, database dump $(on_host "mysqldump $DB | wc -c" | awk '{print int($1 / 1048576)}') MB" >&2

# shellcheck source=bench/lib.sh
source bench/lib.sh
ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); echo "  $1: $2 s, cpu $3 s, $4 MiB, all ok: $5" >&2; }
newest() { "${C[@]}" --json backup list $DOMAIN | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])'; }
touch_one_percent() { on_host "cd $BASE/shared/wp-content/uploads/bench && for i in 1 2 3; do head -c 1000000 /dev/urandom > random\$i.bin; done && for i in 1 2; do echo changed \$RANDOM >> text\$i.txt; done"; }

FRESH="on_host 'rm -rf /var/backups/chom/restic /var/backups/chom/cache'"
row "chom backup create, first (fresh repository)" $(PRE=$FRESH measure "${C[@]}" backup create $DOMAIN)
row "chom backup create, unchanged" $(measure "${C[@]}" backup create $DOMAIN)
row "chom backup create, 1 % of the files changed" $(PRE=touch_one_percent measure "${C[@]}" backup create $DOMAIN)
row "chom backup check, all data read back" $(measure "${C[@]}" backup check web)
ID=$(newest)
row "chom backup drill (restore into scratch, count, remove)" $(measure "${C[@]}" backup drill "$ID")
row "chom backup restore into the same site (checked, switched)" $(measure "${C[@]}" backup restore "$ID")

# By hand: the same restic work, each command over OpenSSH.
R="RESTIC_REPOSITORY=/var/backups/hand RESTIC_PASSWORD=bench-password"
cat >"$WORK/hand-first.sh" <<EOF
set -e
$SSH "rm -rf /var/backups/hand && $R restic init --quiet"
bash $WORK/hand-backup.sh
EOF
cat >"$WORK/hand-backup.sh" <<EOF
set -e
$SSH "$R restic backup --quiet --one-file-system $BASE/releases/$RELEASE $BASE/shared"
$SSH "mysqldump --single-transaction --routines --triggers $DB | $R restic backup --quiet --stdin --stdin-filename $DOMAIN.sql"
EOF
cat >"$WORK/hand-restore.sh" <<EOF
set -e
$SSH "rm -rf /var/tmp/hand && $R restic restore latest --path $BASE/releases/$RELEASE --target /var/tmp/hand >/dev/null"
$SSH "mysql -e 'DROP DATABASE IF EXISTS hand; CREATE DATABASE hand' && $R restic dump latest /$DOMAIN.sql | mysql hand"
EOF
row "by hand: restic init, backup + mysqldump \\| restic over ssh, first" $(measure bash "$WORK/hand-first.sh")
row "by hand: the same, unchanged" $(measure bash "$WORK/hand-backup.sh")
row "by hand: the same, 1 % of the files changed" $(PRE=touch_one_percent measure bash "$WORK/hand-backup.sh")
row "by hand: restic check --read-data over ssh" $(measure $SSH "$R restic check --read-data")
row "by hand: restic restore + dump loaded, over ssh" $(measure bash "$WORK/hand-restore.sh")
cat >"$WORK/tar.sh" <<EOF
set -e
$SSH "tar -C $BASE -cf - releases/$RELEASE shared | zstd -q -1 -T0" >"$WORK/site.tar.zst"
$SSH "mysqldump --single-transaction $DB | zstd -q -1" >"$WORK/db.sql.zst"
EOF
row "tar \\| zstd and mysqldump \\| zstd over ssh, to this computer" $(measure bash "$WORK/tar.sh")

echo
echo "Backups of a WordPress site (500 MB of uploads, 50 MB database) on a lab web host ($(nproc) cores, shared with the host's services), median of $REPEAT runs:"
echo
echo "| What | Wall (s) | Client CPU (s) | Peak client memory (MiB) | All runs ok |"
echo "|---|---:|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Targets from the issue: first backup within 1.15x of restic by hand; unchanged under 2 s; 1 %-changed under 15 % of the first; restore within 1.3x of restic's by hand; client memory under 64 MiB."

#!/usr/bin/env bash
# measure prints several fields, which row takes as separate words:
# shellcheck disable=SC2046
# Transfer benchmark on a lab web host (198.18.251.2, its own namespaces):
# one file of SIZE_MIB (default 2048) of random bytes downloaded and
# uploaded by `chom download` / `chom upload` (streamed over the pooled SSH
# connection, SHA-256 checked at both ends), side by side with OpenSSH's
# scp and sftp moving the same file (no checksum), at their defaults
# (ChaCha20-Poly1305) and scp with AES-256-GCM, the cipher chom asks for
# first on a CPU with AES instructions. Prints a Markdown
# table: median wall time of REPEAT runs (default 3), client CPU, peak
# client memory, whether every run succeeded, and chom's time over the
# faster OpenSSH tool's.
#
# Usage: bench/transfer.sh   (root; runs in its own keyring session)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CHOM_BENCH_IN_KEYRING:-}" ]; then
  scripts/install-deps.sh lab web gui
  CHOM_BENCH_IN_KEYRING=1 exec scripts/with-keyring.sh "$0" "$@"
fi
REPEAT=${REPEAT:-3}
SIZE_MIB=${SIZE_MIB:-2048}
INDEX=251
cargo build --release --locked -q -p chom-cli -p chom-lab
BIN="${CARGO_TARGET_DIR:-target}/release"
WORK=$(mktemp -d /tmp/chom-transfer-bench-XXXXXX)
cleanup() { "$BIN/chom-lab" web-down --dir "$WORK/web" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
D="$WORK/data"
C=("$BIN/chom" --data-dir "$D")

"${C[@]}" key generate bench >/dev/null
"${C[@]}" key export-public bench >"$WORK/bench.pub"
"$BIN/chom-lab" web-up --hosts 1 --first $INDEX --root-key "$WORK/bench.pub" --dir "$WORK/web" >/dev/null
ADDR=198.18.$INDEX.2
"${C[@]}" server add web --host $ADDR --user root --key bench >/dev/null
"${C[@]}" server trust web --trust-on-first-use >/dev/null

# OpenSSH logs in with a key of its own, added to root's authorized keys.
ssh-keygen -q -t ed25519 -N '' -C bench -f "$WORK/id"
INIT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][0]["init"])' "$WORK/web/web.json")
on_host() { nsenter -t "$INIT" -a sh -c "$1"; }
on_host "cat >> /etc/ssh/authorized_keys/root" <"$WORK/id.pub"
OPTS=(-i "$WORK/id" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=error)
on_host "mkdir -p /root/bench && head -c $((SIZE_MIB << 20)) /dev/urandom > /root/bench/file.bin"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$WORK/up.bin"

# shellcheck source=bench/lib.sh
source bench/lib.sh
ROWS=()
declare -A WALL
row() {
  WALL[$1]=$3
  ROWS+=("| $2 | $3 | $4 | $5 | $6 |")
  echo "  $2: $3 s, cpu $4 s, $5 MiB, all ok: $6" >&2
}

row chom_down "chom download ($SIZE_MIB MiB, SHA-256 checked)" \
  $(PRE="rm -f $WORK/down.bin" measure "${C[@]}" download web /root/bench/file.bin "$WORK/down.bin")
row scp_down "scp download (OpenSSH)" $(PRE="rm -f $WORK/scp.bin" measure scp "${OPTS[@]}" "root@$ADDR:/root/bench/file.bin" "$WORK/scp.bin")
row scp_gcm_down "scp -c aes256-gcm@openssh.com download (the cipher chom picks here)" \
  $(PRE="rm -f $WORK/scp.bin" measure scp -c aes256-gcm@openssh.com "${OPTS[@]}" "root@$ADDR:/root/bench/file.bin" "$WORK/scp.bin")
row sftp_down "sftp get (OpenSSH)" \
  $(PRE="rm -f $WORK/sftp.bin" measure sftp "${OPTS[@]}" -q "root@$ADDR:/root/bench/file.bin" "$WORK/sftp.bin")
row chom_up "chom upload ($SIZE_MIB MiB, SHA-256 checked)" \
  $(PRE="on_host 'rm -f /root/bench/up.bin'" measure "${C[@]}" upload web "$WORK/up.bin" /root/bench/up.bin)
row scp_up "scp upload (OpenSSH)" \
  $(PRE="on_host 'rm -f /root/bench/scp.bin'" measure scp "${OPTS[@]}" "$WORK/up.bin" "root@$ADDR:/root/bench/scp.bin")
row scp_gcm_up "scp -c aes256-gcm@openssh.com upload" \
  $(PRE="on_host 'rm -f /root/bench/scp.bin'" measure scp -c aes256-gcm@openssh.com "${OPTS[@]}" "$WORK/up.bin" "root@$ADDR:/root/bench/scp.bin")
echo "put $WORK/up.bin /root/bench/sftp.bin" >"$WORK/put.batch"
row sftp_up "sftp put (OpenSSH)" \
  $(PRE="on_host 'rm -f /root/bench/sftp.bin'" measure sftp "${OPTS[@]}" -q -b "$WORK/put.batch" "root@$ADDR")

ratio() { python3 -c "import sys; a, b, c = map(float, sys.argv[1:]); print(f'{a / min(b, c):.2f}x')" "$@"; }
echo
echo "One $SIZE_MIB MiB file over SSH to a lab web host ($(nproc) cores, client and server on one machine), median of $REPEAT runs:"
echo
echo "| What | Wall (s) | Client CPU (s) | Peak client memory (MiB) | All runs ok |"
echo "|---|---:|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
echo
down=$(ratio "${WALL[chom_down]}" "${WALL[scp_down]}" "${WALL[sftp_down]}")
up=$(ratio "${WALL[chom_up]}" "${WALL[scp_up]}" "${WALL[sftp_up]}")
down_gcm=$(ratio "${WALL[chom_down]}" "${WALL[scp_gcm_down]}" "${WALL[scp_gcm_down]}")
up_gcm=$(ratio "${WALL[chom_up]}" "${WALL[scp_gcm_up]}" "${WALL[scp_gcm_up]}")
echo "chom download: $down of the faster OpenSSH tool at its defaults, $down_gcm of scp with AES-GCM; chom upload: $up, $up_gcm."

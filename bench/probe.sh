#!/usr/bin/env bash
# measure prints several fields, which row takes as separate words:
# shellcheck disable=SC2046
# Fleet probe benchmark: the same probe command on N lab hosts with
#   chom probe (CLI, cold), chom run of the same command (CLI, cold),
#   chom warm (second probe, same process, pooled), the bare floor
#   (chom-floor: russh + tokio and nothing else, 64 at once as chom),
#   OpenSSH fan-out (xargs -P N ssh), the same forced to curve25519,
#   parallel-ssh (Debian pssh), Ansible (ansible -m raw -f N, ansible-core
#   from PyPI) and OpenSSH ControlMaster fan-out over warm masters.
# Prints a Markdown table: median wall time, client CPU, peak client memory
# (sum over every client process). A row counts only if all N hosts succeeded.
# From N = 1000, chom run also runs with --connect-parallel 64, 500 and N
# (the adaptive pacing's ceiling), and each tool runs where it can: Ansible
# up to ANSIBLE_MAX hosts (default 1000: -f N forks a Python per host),
# parallel-ssh with at most 300 at once (it select()s, which stops at 1,024
# descriptors).
#
# Usage: bench/probe.sh [N ...]        (default: 1 10 50 200; REPEAT=3)
# Needs root (the lab starts sshd) and runs in its own keyring session.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CHOM_BENCH_IN_KEYRING:-}" ]; then
  scripts/install-deps.sh lab bench gui
  CHOM_BENCH_IN_KEYRING=1 exec scripts/with-keyring.sh "$0" "$@"
fi
SIZES=("$@"); [ ${#SIZES[@]} -eq 0 ] && SIZES=(1 10 50 200)
REPEAT=${REPEAT:-3}
ANSIBLE_MAX=${ANSIBLE_MAX:-1000}
VENV=/var/cache/chom-bench-venv
if [ ! -x "$VENV/bin/ansible" ]; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install -q ansible-core
fi
cargo build --release --locked -q -p chom-cli -p chom-lab -p chom-bench
BIN="${CARGO_TARGET_DIR:-target}/release"
WORK=$(mktemp -d /tmp/chom-bench-XXXXXX)
chmod 755 "$WORK"   # the lab's login user reads authorized_keys below it
LABS=()
cleanup() { for l in "${LABS[@]}"; do "$BIN/chom-lab" down --dir "$l" >/dev/null 2>&1 || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -C bench -f "$WORK/id"
export PROBE; PROBE=$("$BIN/chom-probe-bench" --print-script)
M="python3 bench/measure.py"
SSH_OPTS="-i $WORK/id -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$WORK/known_hosts -o ConnectTimeout=30"
ROWS=()

# median over REPEAT runs of a measured command; prints "wall cpu peak ok"
measure() {
  local runs=() i
  for ((i = 0; i < REPEAT; i++)); do runs+=("$($M "$@")"); done
  printf '%s\n' "${runs[@]}" | python3 -c '
import json, sys
runs = sorted((json.loads(l) for l in sys.stdin), key=lambda r: r["wall_s"])
m = runs[len(runs) // 2]
print(m["wall_s"], m["cpu_s"], m["peak_mib"], "yes" if all(r["status"] == 0 for r in runs) else "NO")'
}

row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); echo "  $1 N=$2: $3 s, cpu $4 s, $5 MiB, all ok: $6" >&2; }

for N in "${SIZES[@]}"; do
  echo "== N=$N" >&2
  LAB="$WORK/lab-$N"; LABS+=("$LAB")
  "$BIN/chom-lab" up --hosts "$N" --subnet 60 --dir "$LAB" >/dev/null
  "$BIN/chom-lab" authorize --dir "$LAB" --key "$(cat "$WORK/id.pub")"
  python3 - "$LAB/lab.json" "$WORK" <<'PY'
import json, sys
lab = json.load(open(sys.argv[1])); work = sys.argv[2]
hosts = lab["hosts"]
open(f"{work}/hosts.txt", "w").write("".join(f"{h['addr']}\n" for h in hosts))
open(f"{work}/known_hosts", "w").write("".join(f"{h['addr']} {h['host_key_public']}\n" for h in hosts))
open(f"{work}/trust.txt", "w").write("".join(f"{h['name']} {h['addr']} {h['host_key_fingerprint']}\n" for h in hosts))
open(f"{work}/inventory.ini", "w").write("[lab]\n" + "".join(f"{h['addr']}\n" for h in hosts)
  + f"[lab:vars]\nansible_user={lab.get('user', 'chomlab')}\nansible_ssh_private_key_file={work}/id\n"
  + f"ansible_ssh_common_args='-o UserKnownHostsFile={work}/known_hosts -o StrictHostKeyChecking=yes'\n")
PY
  USER_AT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("user","chomlab"))' "$LAB/lab.json")"
  D="$WORK/chom-$N"
  "$BIN/chom" --data-dir "$D" key import bench "$WORK/id" >/dev/null
  # The fleet comes in as an operator's would: an ssh config and known_hosts.
  { printf 'Host *\n  User %s\n  IdentityFile %s/id\n' "$USER_AT" "$WORK"
    while read -r name addr _; do printf 'Host %s\n  HostName %s\n' "$name" "$addr"; done < "$WORK/trust.txt"
  } > "$WORK/ssh_config"
  "$BIN/chom" --data-dir "$D" import ssh-config "$WORK/ssh_config" >/dev/null
  "$BIN/chom" --data-dir "$D" import known-hosts "$WORK/known_hosts" >/dev/null

  row "chom probe (CLI, cold)" "$N" $(measure "$BIN/chom" --data-dir "$D" --connect-timeout 60 probe --all --json)
  row "chom run (CLI, cold, the same command)" "$N" $(measure "$BIN/chom" --data-dir "$D" --connect-timeout 60 run --all -- "$PROBE")
  if [ "$N" -ge 1000 ]; then
    for P in 64 500 "$N"; do
      row "chom run, --connect-parallel $P --connect-timeout 10" "$N" \
        $(measure "$BIN/chom" --data-dir "$D" --connect-parallel "$P" --connect-timeout 10 run --all -- "$PROBE")
    done
  fi
  # Cold and warm rounds inside one process, timed from inside.
  for ((i = 0; i < REPEAT; i++)); do "$BIN/chom-probe-bench" --data-dir "$D" --rounds 3; done > "$WORK/rounds.jsonl"
  read -r cw cc cp wo ww wc wp < <(python3 - "$WORK/rounds.jsonl" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
def med(kind):
    xs = sorted((r for r in rs if r["round"] == kind), key=lambda r: r["wall_s"])
    return xs[len(xs) // 2]
c, w = med("cold"), med("warm")
ok = "yes" if all(r["failed"] == 0 for r in rs) else "NO"
peak = max(r["peak_rss_kib"] for r in rs) / 1024
print(f'{c["wall_s"]:.3f} {c["cpu_s"]:.2f} {peak:.1f} {ok} {w["wall_s"]:.4f} {w["cpu_s"]:.2f} {peak:.1f}')
PY
)
  row "chom probe in-process, cold" "$N" "$cw" "$cc" "$cp" "$wo"
  row "chom probe in-process, warm (pooled)" "$N" "$ww" "$wc" "$wp" "$wo"

  row "bare floor: russh + tokio, 64 at once (chom-floor)" "$N" $(measure "$BIN/chom-floor" --hosts "$WORK/hosts.txt" \
    --known "$WORK/known_hosts" --key "$WORK/id" --user "$USER_AT" --parallel 64 -- "$PROBE")

  FAN="xargs -P $N -n1 sh -c 'exec ssh $SSH_OPTS -l $USER_AT \"\$1\" \"\$PROBE\"' _"
  row "OpenSSH fan-out (xargs -P N ssh)" "$N" $(measure sh -c "$FAN < $WORK/hosts.txt")
  FAN25519="xargs -P $N -n1 sh -c 'exec ssh $SSH_OPTS -o KexAlgorithms=curve25519-sha256 -l $USER_AT \"\$1\" \"\$PROBE\"' _"
  row "OpenSSH fan-out, curve25519 kex" "$N" $(measure sh -c "$FAN25519 < $WORK/hosts.txt")
  PSSH_P=$((N < 300 ? N : 300))
  row "parallel-ssh (pssh -p $PSSH_P)" "$N" $(measure parallel-ssh -h "$WORK/hosts.txt" -l "$USER_AT" -p "$PSSH_P" -t 300 -x "$SSH_OPTS" "$PROBE")
  if [ "$N" -le "$ANSIBLE_MAX" ]; then
    # Ansible's argument splitter refuses the probe script's quoting
    # ("unbalanced jinja2 block or quotes"), so it travels base64-encoded.
    AN_PROBE="echo $(printf '%s' "$PROBE" | base64 -w0) | base64 -d | sh"
    row "Ansible raw, -f N" "$N" $(measure env ANSIBLE_SSH_ARGS="-o ControlMaster=no" ANSIBLE_PYTHON_INTERPRETER=auto_silent \
      "$VENV/bin/ansible" all -i "$WORK/inventory.ini" -m raw -a "$AN_PROBE" -f "$N")
  fi

  CM="-o ControlPath=$WORK/cm-%C"
  xargs -P "$N" -n1 sh -c "exec ssh $SSH_OPTS $CM -o ControlMaster=yes -o ControlPersist=300 -l $USER_AT \"\$1\" true" _ < "$WORK/hosts.txt"
  FANCM="xargs -P $N -n1 sh -c 'exec ssh $SSH_OPTS $CM -o ControlMaster=no -l $USER_AT \"\$1\" \"\$PROBE\"' _"
  row "OpenSSH ControlMaster fan-out (warm masters)" "$N" $(measure sh -c "$FANCM < $WORK/hosts.txt")
  xargs -P "$N" -n1 sh -c "ssh $SSH_OPTS $CM -O exit -l $USER_AT \"\$1\" 2>/dev/null" _ < "$WORK/hosts.txt" || true

  "$BIN/chom-lab" down --dir "$LAB" >/dev/null
done

echo
echo "Probe of N lab hosts, median of $REPEAT runs, $(nproc) cores ($(date -u +%F))."
echo
echo "| tool | N | wall s | client CPU s | peak client MiB | all hosts ok |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"

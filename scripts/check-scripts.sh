#!/usr/bin/env bash
# Runs ShellCheck on every shell script of the project: the project's own
# (install, test, lab, bench), and what CHOM runs on servers
# (assets/remote/), each of those as it runs: the variables CHOM sets,
# common.sh, layout.sh where it is included, the fragments web/assets.rs
# puts before it (release.sh, restic.sh), then the script (chom-core's
# web/script.rs puts them together).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for f in assets/remote/*.sh; do
  name=$(basename "$f")
  case "$name" in common.sh | layout.sh | release.sh | restic.sh) continue ;; esac
  parts=(assets/remote/common.sh)
  case "$name" in deploy.sh | site.sh | ssl.sh | backup.sh | restore.sh | restore-path.sh) parts+=(assets/remote/layout.sh) ;; esac
  # The fragments web/assets.rs puts before a script's own text.
  case "$name" in deploy.sh | restore.sh) parts+=(assets/remote/release.sh) ;; esac
  case "$name" in backup.sh | restore.sh | restore-path.sh) parts+=(assets/remote/restic.sh) ;; esac
  # Variables come from CHOM (script.rs), set before the text runs.
  vars=$(grep -ohE '\$\{?[A-Z][A-Z0-9_]+' "${parts[@]}" "$f" | tr -d '${' | sort -u | grep -vxE 'PATH|HOME|LC_ALL' | sed 's/$/=x/')
  { echo "#!/bin/sh"; echo "set -eu"; echo "$vars"; cat "${parts[@]}" "$f"; } >"$tmp/$name"
  shellcheck -s sh -S warning -e SC3043,SC2034 "$tmp/$name" || status=1
done
shellcheck -S warning scripts/*.sh crates/chom-lab/src/webhost.sh bench/*.sh tests/app_smoke/run.sh tests/package/installed.sh || status=1
exit "$status"

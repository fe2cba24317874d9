#!/usr/bin/env bash
# Builds the .deb (debug build, as the tests use), installs it with apt as
# an operator would, launches the installed app under Xvfb through
# WebDriver and checks the CLI, man pages and completions it brought; then
# removes the package again. Run inside scripts/with-keyring.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
# Its output goes to stderr as it comes (not through tee /dev/stderr, which
# reopens a log file that stderr points to and truncates it).
scripts/package.sh --debug >&2
out=$(find "$target/debug/bundle/deb" -maxdepth 1 -name '*.deb' -newer "$target/package-stage/bundle.json" | tail -1)
[ -n "$out" ] || { echo "tests/package/installed.sh: scripts/package.sh made no .deb" >&2; exit 1; }
dpkg-deb --info "$out" | sed -n '/Package:/,/Description:/p'
apt-get install -y -qq "$out" >/dev/null
trap 'apt-get remove -y -qq chom >/dev/null 2>&1 || true' EXIT
# Installed: the bundle's tree and the staged files (about 1 GB for a
# debug build) go, so test runs do not fill the disk.
rm -rf "$(dirname "$(dirname "$out")")" "$target/package-stage"
mkdir -p out/package
xvfb-run -a -s "-screen 0 1280x800x24" /var/cache/chom-e2e-venv/bin/python tests/package/installed.py out/package

#!/usr/bin/env bash
# Packages CHOM with the Tauri bundler: a .deb holding the desktop app, the
# `chom` CLI, its man pages and its bash, zsh and fish completions.
# Usage: scripts/package.sh [--debug] [deb|appimage]...   (default: deb)
# --debug bundles a debug build (what CI installs and launches: it reuses
# the test build); without it, an optimised release build.
# The AppImage needs linuxdeploy and appimagetool, which the bundler
# downloads from GitHub: on a machine that cannot reach it, it fails and
# says so. The .msi (WiX/NSIS) and .dmg settings are in tauri.conf.json;
# those bundles are made on Windows and macOS.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
debug_flag=()
bundles=()
for a in "$@"; do
  case "$a" in
    --debug) profile=debug debug_flag=(--debug) ;;
    deb | appimage) bundles+=("$a") ;;
    *) echo "scripts/package.sh: unknown argument '$a' (--debug, deb, appimage)" >&2; exit 2 ;;
  esac
done
[ ${#bundles[@]} -gt 0 ] || bundles=(deb)

target="${CARGO_TARGET_DIR:-$PWD/target}"
npm --prefix ui ci --no-audit --no-fund --loglevel=error
npm --prefix ui run build --silent

# The CLI and what describes it, staged where the bundle config points.
cargo_flags=(--locked -p chom-cli)
[ "$profile" = release ] && cargo_flags+=(--release)
cargo build "${cargo_flags[@]}"
stage="$target/package-stage"
rm -rf "$stage"
mkdir -p "$stage/man"
chom="$target/$profile/chom"
install -m 755 "$chom" "$stage/chom"
"$chom" man --dir "$stage/man"
gzip -9n "$stage"/man/*.1
"$chom" completions bash >"$stage/chom.bash"
"$chom" completions zsh >"$stage/_chom"
"$chom" completions fish >"$stage/chom.fish"

files=$(
  printf '"/usr/bin/chom": "%s/chom",\n' "$stage"
  printf '"/usr/share/bash-completion/completions/chom": "%s/chom.bash",\n' "$stage"
  printf '"/usr/share/zsh/vendor-completions/_chom": "%s/_chom",\n' "$stage"
  printf '"/usr/share/fish/vendor_completions.d/chom.fish": "%s/chom.fish",\n' "$stage"
  for page in "$stage"/man/*.1.gz; do
    printf '"/usr/share/man/man1/%s": "%s",\n' "$(basename "$page")" "$page"
  done
)
cat >"$stage/bundle.json" <<EOF
{ "bundle": { "linux": { "deb": { "files": { ${files%,} } } } } }
EOF

if ! ui/node_modules/.bin/tauri build --ci "${debug_flag[@]}" --bundles "$(IFS=,; echo "${bundles[*]}")" \
  --config "$stage/bundle.json"; then
  case " ${bundles[*]} " in
    *" appimage "*) echo "scripts/package.sh: the AppImage needs linuxdeploy and appimagetool from github.com; if this machine cannot reach it, make the .deb alone (the default)" >&2 ;;
  esac
  exit 1
fi
echo "packages:"
find "$target/$profile/bundle" -maxdepth 2 -type f \( -name '*.deb' -o -name '*.AppImage' \) -newer "$stage/bundle.json" -print

#!/usr/bin/env bash
# Installs what CHOM needs on a fresh Debian 12 machine (Rust and Node present).
# Idempotent: a second run installs nothing. Usage: scripts/install-deps.sh [build|gui|lab|bench|all]...
set -euo pipefail

BUILD_PKGS=(build-essential libdbus-1-dev pkg-config curl file libwebkit2gtk-4.1-dev libgtk-3-dev
  libayatana-appindicator3-dev librsvg2-dev libssl-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev libxdo-dev)
# Running the app headless, the OS keyring (Secret Service) and WebDriver e2e.
GUI_PKGS=(xvfb xauth imagemagick webkit2gtk-driver dbus dbus-x11 gnome-keyring python3-venv
  libsecret-tools keyutils at-spi2-core)
# The lab fleet: real OpenSSH servers on loopback, util-linux for namespaces.
LAB_PKGS=(openssh-server openssh-client util-linux iproute2 procps)
# Tools CHOM is benchmarked against.
BENCH_PKGS=(pssh python3-venv time)

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(all)

pkgs=()
for w in "${want[@]}"; do
  case "$w" in
    build) pkgs+=("${BUILD_PKGS[@]}") ;;
    gui) pkgs+=("${GUI_PKGS[@]}") ;;
    lab) pkgs+=("${LAB_PKGS[@]}") ;;
    bench) pkgs+=("${BENCH_PKGS[@]}") ;;
    all) pkgs+=("${BUILD_PKGS[@]}" "${GUI_PKGS[@]}" "${LAB_PKGS[@]}") ;;
    *) echo "install-deps: unknown group '$w' (build|gui|lab|bench|all)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

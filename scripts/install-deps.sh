#!/usr/bin/env bash
# Installs what CHOM needs on a fresh Debian 12 machine (Rust and Node present).
# Idempotent: a second run installs nothing. Usage: scripts/install-deps.sh [build|gui|lab|web|bench|ansible|all]...
set -euo pipefail

BUILD_PKGS=(build-essential libdbus-1-dev pkg-config curl file libwebkit2gtk-4.1-dev libgtk-3-dev
  libayatana-appindicator3-dev librsvg2-dev libssl-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev libxdo-dev shellcheck)
# Running the app headless, the OS keyring (Secret Service) and WebDriver e2e.
# xdotool drives the native file chooser, which WebDriver cannot reach.
GUI_PKGS=(xvfb xauth imagemagick webkit2gtk-driver dbus dbus-x11 gnome-keyring python3-venv
  libsecret-tools keyutils at-spi2-core xdotool)
# The lab fleet: real OpenSSH servers on loopback, util-linux for namespaces.
LAB_PKGS=(openssh-server openssh-client util-linux iproute2 procps)
# Lab web hosts (sshd, nginx, PHP-FPM, MariaDB in namespaces), pebble for
# ACME, WordPress and Laravel files for the site tests. Debian's wordpress
# package would pull in apache2: the trailing '-' keeps it out.
WEB_PKGS=(openssh-server nginx php8.2-fpm php8.2-cli php8.2-mysql php8.2-curl php8.2-mbstring php8.2-xml
  mariadb-server certbot python3-certbot-nginx pebble wordpress wordpress-theme-twentytwentythree tini composer php-laravel-framework ufw cron
  curl git rsync openssl iptables sudo restic)
WEB_EXCLUDE=(apache2- apache2-bin- libapache2-mod-php8.2-)
# Tools CHOM is benchmarked against.
BENCH_PKGS=(pssh python3-venv time)
# Ansible's own reading of inventories, for the import and export tests:
# ansible-core from PyPI in a venv (its ansible-inventory is the oracle).
ANSIBLE_VENV=/var/cache/chom-ansible-venv
ANSIBLE_CORE="ansible-core==2.19.14"

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(all)

pkgs=()
ansible=""
for w in "${want[@]}"; do
  case "$w" in
    ansible) ansible=1 pkgs+=(python3-venv) ;;
    build) pkgs+=("${BUILD_PKGS[@]}") ;;
    gui) pkgs+=("${GUI_PKGS[@]}") ;;
    lab) pkgs+=("${LAB_PKGS[@]}") ;;
    web) pkgs+=("${WEB_PKGS[@]}") ;;
    bench) pkgs+=("${BENCH_PKGS[@]}") ;;
    all) ansible=1 pkgs+=("${BUILD_PKGS[@]}" "${GUI_PKGS[@]}" "${LAB_PKGS[@]}" "${WEB_PKGS[@]}") ;;
    *) echo "install-deps: unknown group '$w' (build|gui|lab|web|bench|ansible|all)" >&2; exit 2 ;;
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
  # Package scripts must not start daemons on this machine: the lab starts
  # its own copies inside namespaces (policy-rc.d 101 = "not allowed").
  restore_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    restore_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" "${WEB_EXCLUDE[@]}" >/dev/null
  [ -n "$restore_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
  true
fi

if [ -n "$ansible" ] && ! "$ANSIBLE_VENV/bin/pip" show -q ansible-core 2>/dev/null; then
  echo "install-deps: installing $ANSIBLE_CORE into $ANSIBLE_VENV" >&2
  python3 -m venv "$ANSIBLE_VENV"
  "$ANSIBLE_VENV/bin/pip" install -q "$ANSIBLE_CORE"
fi

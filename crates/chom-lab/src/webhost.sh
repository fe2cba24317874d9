#!/bin/bash
# Lab web hosts: each in its own network, mount, UTS and PID namespace, with
# its own /etc (users, nginx, php, mysql, ssh, cron, letsencrypt), /var/www,
# /var/lib/mysql, /var/lib/chom (the schedules' status), /var/log, /var/backups, /run, /tmp,
# /home and /root, and sshd, MariaDB,
# PHP-FPM and nginx started by Debian's init scripts inside it (no systemd).
# Its address is 198.18.I.2 on a veth pair whose other end, 198.18.I.1, is in
# the root namespace; no default route, so nothing leaves the machine.
#
#   webhost.sh start NAME INDEX ROOT PUBKEY_FILE   prints the PID of the host's init
#   webhost.sh stop NAME INIT_PID ROOT
#   webhost.sh pebble-start DIR                   prints "PEBBLE_PID CHALLTESTSRV_PID"
#   webhost.sh pebble-stop PID...
#   webhost.sh pebble-add-a DOMAIN IP
#
# The PID namespace matters: without it Debian's php-fpm and mariadb stop
# scripts (start-stop-daemon --exec, killall) reach every host's daemons.
set -euo pipefail

PHP=${CHOM_LAB_PHP:-8.2}
PEBBLE_IP=198.18.255.1

die() { echo "webhost: $*" >&2; exit 1; }

start() {
  local name=$1 idx=$2 root=$3 pubkey=$4
  [[ $name =~ ^[a-z0-9]{1,12}$ ]] || die "host name must be 1-12 of [a-z0-9], got '$name'"
  [[ $idx =~ ^[0-9]+$ ]] && (( idx >= 0 && idx <= 254 )) || die "index must be 0-254, got '$idx'"
  if [ -e "/run/netns/$name" ]; then
    # A namespace nothing runs in is what a killed run (SIGKILL, a machine
    # restart) leaves behind: remove it. One with processes belongs to a lab
    # that is still up, and is never touched.
    [ -n "$(ip netns pids "$name" 2>/dev/null)" ] &&
      die "network namespace $name exists and has processes: another lab runs it; stop it first"
    echo "webhost: removing namespace $name left by a run that did not stop (no process in it)" >&2
    ip link del "${name}r" 2>/dev/null || true
    ip netns del "$name"
  fi

  # Files first (nothing to undo in the kernel if a copy fails).
  rm -rf "$root"; mkdir -p "$root"
  # /etc can change under the copy (another lab's chpasswd writes and
  # renames /etc/nshadow): copy again, then drop what such a tool leaves
  # while it works, so the host's own useradd finds no stale lock.
  local try
  for try in 1 2 3 4 5; do
    rm -rf "${root:?}/etc"
    cp -a /etc "$root/etc" 2>"$root/cp.err" && break
    [ "$try" = 5 ] && die "copying /etc failed: $(tail -1 "$root/cp.err")"
    sleep 0.2
  done
  rm -f "$root/cp.err" "$root"/etc/n{passwd,shadow,group,gshadow} "$root"/etc/{passwd,shadow,group,gshadow}.lock
  mkdir -p "$root/var/lib" "$root/var/spool/cron/crontabs" "$root/var/lib/letsencrypt" \
    "$root/var/www" "$root/var/log/nginx" "$root/var/log/mysql" "$root/run/lock" "$root/tmp" \
    "$root/home" "$root/root" "$root/var/backups" "$root/var/lib/chom"
  cp -a /var/lib/mysql "$root/var/lib/mysql"
  cp -a /var/lib/php "$root/var/lib/php"
  chmod 1777 "$root/tmp" "$root/run/lock"
  chown mysql:adm "$root/var/log/mysql" 2>/dev/null || true
  rm -f "$root"/etc/ssh/ssh_host_*
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$root/etc/ssh/ssh_host_ed25519_key"
  mkdir -p "$root/etc/ssh/authorized_keys"
  install -m 644 "$pubkey" "$root/etc/ssh/authorized_keys/root"
  printf 'ListenAddress 198.18.%s.2\nAuthorizedKeysFile /etc/ssh/authorized_keys/%%u .ssh/authorized_keys\n' \
    "$idx" >"$root/etc/ssh/sshd_config.d/00-lab.conf"
  echo "$name" >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n198.18.%s.2 %s\n' "$idx" "$name" >"$root/etc/hosts"
  rm -rf "$root/etc/letsencrypt"; mkdir -p "$root/etc/letsencrypt"
  # Debian's wordpress package leaves an index.html there; a bare host has none.
  rm -f "$root/var/www/html/index.html"

  # /tmp last: the host roots usually live under it.
  local dirs="etc var/lib/mysql var/lib/php var/lib/letsencrypt var/lib/chom var/spool/cron var/www var/log var/backups run home root tmp"
  for d in $dirs; do mkdir -p "/$d"; done   # mount points must exist on /

  ip netns add "$name"
  ip link add "${name}r" type veth peer name "${name}n"
  ip link set "${name}n" netns "$name"
  ip addr add "198.18.$idx.1/24" dev "${name}r"
  ip link set "${name}r" up
  ip -n "$name" link set lo up
  ip -n "$name" addr add "198.18.$idx.2/24" dev "${name}n"
  ip -n "$name" link set "${name}n" up
  ip -n "$name" route add 198.18.0.0/15 via "198.18.$idx.1"

  local binds=""
  for d in $dirs; do binds="$binds mount --bind '$root/$d' '/$d';"; done
  nsenter --net="/run/netns/$name" setsid unshare --mount --uts --pid --fork --kill-child --mount-proc \
    --propagation private sh -c "hostname '$name'; $binds exec tini -s -- sleep infinity" \
    </dev/null >"$root.console" 2>&1 &
  local outer=$! init=""
  for _ in $(seq 1 200); do
    init=$(pgrep -P "$outer" -x tini || true)
    [ -n "$init" ] && break
    sleep 0.01
  done
  [ -n "$init" ] || die "host $name did not start: $(cat "$root.console")"

  # mariadb takes about a second; the others start meanwhile.
  local pids=() svc
  for svc in ssh mariadb "php$PHP-fpm" nginx; do
    nsenter -t "$init" -a service "$svc" start >>"$root.console" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || die "a service of $name failed to start: $(tail -5 "$root.console")"; done
  echo "$init"
}

stop() {
  local name=$1 init=$2 root=$3
  [[ $name =~ ^[a-z0-9]{1,12}$ ]] || die "bad host name '$name'"
  # Killing the namespace's init kills every process in it (no clean
  # shutdown: the host's files are thrown away anyway).
  if [[ $init =~ ^[0-9]+$ ]] && [ -d "/proc/$init" ]; then
    kill -KILL "$init" 2>/dev/null || true
    for _ in $(seq 1 100); do [ -d "/proc/$init" ] || break; sleep 0.02; done
  fi
  ip link del "${name}r" 2>/dev/null || true
  ip netns del "$name" 2>/dev/null || true
  case "$root" in /tmp/*|/var/tmp/*) rm -rf "$root" "$root.console" ;; esac
}

pebble_start() {
  local dir=$1
  mkdir -p "$dir"
  # No grep -q: with pipefail, an early exit would fail `ip` with SIGPIPE.
  ip addr show dev lo | grep -F "$PEBBLE_IP/32" >/dev/null || ip addr add "$PEBBLE_IP/32" dev lo
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=chom lab pebble" \
    -addext "subjectAltName=IP:$PEBBLE_IP" -keyout "$dir/pebble.key" -out "$dir/pebble.pem" 2>/dev/null
  cat >"$dir/pebble.json" <<EOF
{"pebble":{"listenAddress":"$PEBBLE_IP:14000","managementListenAddress":"$PEBBLE_IP:15000",
 "certificate":"$dir/pebble.pem","privateKey":"$dir/pebble.key","httpPort":80,"tlsPort":443}}
EOF
  setsid pebble-challtestsrv -dns01 127.0.0.1:8053 -management 127.0.0.1:8055 -http01 "" -https01 "" \
    -tlsalpn01 "" -defaultIPv6 "" -defaultIPv4 127.0.0.1 </dev/null >"$dir/challtestsrv.log" 2>&1 &
  local chall=$!
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 setsid pebble -config "$dir/pebble.json" \
    -dnsserver 127.0.0.1:8053 </dev/null >"$dir/pebble.log" 2>&1 &
  local pebble=$!
  for _ in $(seq 1 300); do
    curl -sf --cacert "$dir/pebble.pem" "https://$PEBBLE_IP:14000/dir" >/dev/null 2>&1 &&
      curl -s -o /dev/null http://127.0.0.1:8055/ 2>/dev/null &&
      { echo "$pebble $chall"; return 0; }
    sleep 0.05
  done
  kill "$pebble" "$chall" 2>/dev/null || true
  die "pebble did not answer on https://$PEBBLE_IP:14000/dir: $(tail -3 "$dir/pebble.log")"
}

pebble_stop() {
  local p
  for p in "$@"; do
    # PIDs get reused: only what is still pebble.
    [[ $p =~ ^[0-9]+$ && $(cat "/proc/$p/comm" 2>/dev/null) == pebble* ]] && kill "$p" 2>/dev/null || true
  done
}

pebble_add_a() {
  local domain=$1 ip=$2
  curl -sf -X POST -d "{\"host\":\"$domain\",\"addresses\":[\"$ip\"]}" http://127.0.0.1:8055/add-a >/dev/null ||
    die "pebble-challtestsrv refused the A record for $domain"
}

cmd=${1:-}; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  pebble-start) pebble_start "$@" ;;
  pebble-stop) pebble_stop "$@" ;;
  pebble-add-a) pebble_add_a "$@" ;;
  *) die "usage: webhost.sh start|stop|pebble-start|pebble-stop|pebble-add-a ..." ;;
esac

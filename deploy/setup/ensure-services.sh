#!/usr/bin/env bash
# Makes sure Postgres, Redis and a Docker engine answer on this machine: starts them when they are
# installed but stopped, installs them (Debian packages) when absent and we are root.
set -euo pipefail
log() { echo "[setup] $*"; }
need_root() { [ "$(id -u)" = 0 ] || { echo "[setup] $1 is missing and installing it needs root" >&2; exit 1; }; }
apt_updated=0
apt_install() {
  need_root "$*"
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_ok() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_ok; then
  command -v pg_ctlcluster >/dev/null || { log "installing postgresql"; apt_install postgresql; }
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting postgresql $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 30); do pg_ok && break; sleep 0.5; done
  pg_ok || { echo "[setup] postgres did not start" >&2; exit 1; }
fi
# Meshwork connects as postgres over TCP without a password (trust on loopback), as on CI.
if ! psql -h 127.0.0.1 -U postgres -tAc 'select 1' >/dev/null 2>&1; then
  need_root "postgres trust auth"
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main reload
fi

redis_ok() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_ok; then
  command -v redis-server >/dev/null || { log "installing redis"; apt_install redis-server; }
  log "starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/meshwork.log
  for _ in $(seq 30); do redis_ok && break; sleep 0.2; done
  redis_ok || { echo "[setup] redis did not start" >&2; exit 1; }
fi

docker_ok() { docker info >/dev/null 2>&1; }
if ! docker_ok; then
  command -v dockerd >/dev/null || { log "installing docker.io"; apt_install docker.io iptables; }
  need_root "a running Docker engine"
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/meshwork-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker_ok && break; sleep 0.5; done
  docker_ok || { echo "[setup] dockerd did not start; see /var/log/meshwork-dockerd.log" >&2; exit 1; }
fi
command -v debootstrap >/dev/null || { log "installing debootstrap"; apt_install debootstrap; }
# The rental tests log in with the real OpenSSH client (docs/rentals.md).
if ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
  log "installing openssh-client"; apt_install openssh-client
fi
log "postgres, redis and docker are up"

#!/usr/bin/env bash
# Makes sure Debian's `docker-compose` (1.29, the one bookworm ships) is on this machine, for
# `make compose` and its test; installs it when absent and we are root. Fast when present.
set -euo pipefail
command -v docker-compose >/dev/null && exit 0
[ "$(id -u)" = 0 ] || { echo "[setup] docker-compose is missing and installing it needs root" >&2; exit 1; }
echo "[setup] installing docker-compose"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose >/dev/null

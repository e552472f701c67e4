#!/usr/bin/env bash
# The Debian tools the installers' lint and tests need: shellcheck (make lint, the installer
# tests), docker-compose (the installers start a node with it), and OpenSSH's client and server
# (the installer test logs in to a private sshd on a loopback port). Quick when all are there.
set -euo pipefail
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "[setup] ${missing[*]} missing and installing needs root" >&2; exit 1; }
echo "[setup] installing ${missing[*]}"
# Only the programs: no ssh service started on port 22 by the package's scripts.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
fi
trap '[ "$made_policy" = 0 ] || rm -f "$policy"' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null

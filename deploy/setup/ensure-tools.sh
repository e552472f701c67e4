#!/usr/bin/env bash
# The Debian tools the installers' lint and tests need: shellcheck (make lint, the installer
# tests) and docker-compose (the installers start a node with it). Quick when both are there.
set -euo pipefail
missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "[setup] ${missing[*]} missing and installing needs root" >&2; exit 1; }
echo "[setup] installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null

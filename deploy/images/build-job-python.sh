#!/usr/bin/env bash
# Builds meshwork/job-python:3.11 with no registry: debootstrap a minimal Debian (bookworm ships
# Python 3.11) and `docker import` it. Cached: does nothing when the image is already present.
set -euo pipefail
IMAGE="${IMAGE:-meshwork/job-python:3.11}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "image $IMAGE present"; exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
root=$(mktemp -d /var/tmp/meshwork-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm into $root (a few minutes)"
debootstrap --variant=minbase --include=python3-minimal,python3 bookworm "$root" "$MIRROR" >/dev/null
# Drop what a job never needs, keep the image small.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
mkdir -p "$root/volume" "$root/output"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
  --change 'WORKDIR /' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >/dev/null
echo "built $IMAGE"

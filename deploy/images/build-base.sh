#!/usr/bin/env bash
# Builds meshwork/base:bookworm, the image every compose container starts from, with no registry:
# a debootstrapped bookworm minbase with Python 3.11 (+ venv), PostgreSQL 15 and Redis, so the
# database and broker containers run from the same image as the nodes and no container needs apt.
# Cached: the image is labelled with the sha256 of this script and rebuilt only when that differs;
# the debootstrapped rootfs is kept as a tarball in MESHWORK_IMAGE_CACHE keyed by the package list.
set -euo pipefail
IMAGE="${IMAGE:-meshwork/base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE_DIR="${MESHWORK_IMAGE_CACHE:-/var/cache/meshwork}"
PACKAGES="python3-minimal,python3,python3-venv,ca-certificates,postgresql,redis-server,procps"

source_hash=$( { cat "$0"; echo "$PACKAGES $MIRROR"; } | sha256sum | cut -c1-64)
current=$(docker image inspect -f '{{ index .Config.Labels "meshwork.base.source" }}' "$IMAGE" 2>/dev/null || true)
if [ "$current" = "$source_hash" ]; then
  echo "image $IMAGE present (source ${source_hash:0:12})"; exit 0
fi

rootfs="$CACHE_DIR/base-rootfs-$(echo "$PACKAGES $MIRROR bookworm" | sha256sum | cut -c1-16).tar"
work=$(mktemp -d /var/tmp/meshwork-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ ! -s "$rootfs" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  echo "debootstrap bookworm with python3, postgresql and redis into $work/root (a few minutes, cached in $rootfs)"
  mkdir -p "$work/root" "$CACHE_DIR"
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$work/root" "$MIRROR" >/dev/null
  # The package installs leave a cluster and caches behind; the postgres container makes its own.
  rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/lib/apt/lists/* \
    "$work/root"/usr/share/doc/* "$work/root"/usr/share/man/* "$work/root"/usr/share/info/* \
    "$work/root"/var/lib/postgresql/15/main "$work/root"/etc/postgresql/15/main
  tar -C "$work/root" -cf "$rootfs.tmp" . && mv "$rootfs.tmp" "$rootfs"
  rm -rf "$work/root"
fi
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1' \
  --change "LABEL meshwork.base.source=$source_hash" \
  --change 'WORKDIR /' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" < "$rootfs" >/dev/null
echo "built $IMAGE (source ${source_hash:0:12})"

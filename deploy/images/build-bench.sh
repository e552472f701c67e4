#!/usr/bin/env bash
# Builds meshwork/bench:1, the benchmark image, with no registry: a debootstrapped bookworm minbase
# with python3, numpy and OpenBLAS, plus the pure benchmark modules of protocol/benchmarks at
# /opt/meshwork/bench and a /usr/local/bin/meshwork-bench wrapper.
# The rootfs is cached as a tarball keyed by the package list, so a change to the benchmark source
# only re-runs `docker import`; the image is labelled with the sha256 of its source files and is
# rebuilt only when that differs.
set -euo pipefail
IMAGE="${IMAGE:-meshwork/bench:1}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE_DIR="${MESHWORK_IMAGE_CACHE:-/var/cache/meshwork}"
PACKAGES="python3-minimal,python3,python3-numpy,libopenblas0-pthread"
# The modules the image runs: standard library and numpy only (no pydantic, no Django).
SOURCES=(generator.py merkle.py product.py hashwork.py specs.py cli.py)
here="$(cd "$(dirname "$0")/../.." && pwd)"
src="$here/protocol/benchmarks"

source_hash=$( { cat "$0"; for f in "${SOURCES[@]}"; do echo "== $f"; cat "$src/$f"; done; } | sha256sum | cut -c1-64)
current=$(docker image inspect -f '{{ index .Config.Labels "meshwork.bench.source" }}' "$IMAGE" 2>/dev/null || true)
if [ "$current" = "$source_hash" ]; then
  echo "image $IMAGE present (source ${source_hash:0:12})"; exit 0
fi

rootfs="$CACHE_DIR/bench-rootfs-$(echo "$PACKAGES $MIRROR bookworm" | sha256sum | cut -c1-16).tar"
work=$(mktemp -d /var/tmp/meshwork-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [ ! -s "$rootfs" ]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
  echo "debootstrap bookworm with numpy into $work/root (a few minutes, cached in $rootfs)"
  mkdir -p "$work/root" "$CACHE_DIR"
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$work/root" "$MIRROR" >/dev/null
  # A benchmark needs none of this; dropping it keeps the image small.
  rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/lib/apt/lists/* \
    "$work/root"/usr/share/doc/* "$work/root"/usr/share/man/* "$work/root"/usr/share/info/* \
    "$work/root"/usr/share/locale/* "$work/root"/var/cache/debconf/*-old "$work/root"/var/log/*.log
  find "$work/root/usr/lib/python3" -depth -type d \( -name tests -o -name testing \) -path '*numpy*' -exec rm -rf {} +
  mkdir -p "$work/root/volume" "$work/root/output"
  tar -C "$work/root" -cf "$rootfs.tmp" . && mv "$rootfs.tmp" "$rootfs"
  rm -rf "$work/root"
fi

stage="$work/stage"
mkdir -p "$stage/opt/meshwork/bench/protocol/benchmarks" "$stage/usr/local/bin"
touch "$stage/opt/meshwork/bench/protocol/__init__.py" "$stage/opt/meshwork/bench/protocol/benchmarks/__init__.py"
for f in "${SOURCES[@]}"; do cp "$src/$f" "$stage/opt/meshwork/bench/protocol/benchmarks/$f"; done
cat > "$stage/usr/local/bin/meshwork-bench" <<'WRAPPER'
#!/bin/sh
# Read-only root, any uid: no bytecode written, nothing else needed.
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=/opt/meshwork/bench
exec python3 -m protocol.benchmarks.cli "$@"
WRAPPER
chmod 0755 "$stage/usr/local/bin/meshwork-bench"
chmod -R a+rX "$stage/opt"
cp "$rootfs" "$work/image.tar"
tar -C "$stage" --owner=0 --group=0 -rf "$work/image.tar" ./opt/meshwork ./usr/local/bin/meshwork-bench
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
  --change "LABEL meshwork.bench.source=$source_hash" \
  --change 'WORKDIR /' \
  --change 'CMD ["meshwork-bench", "specs"]' \
  - "$IMAGE" < "$work/image.tar" >/dev/null
echo "built $IMAGE (source ${source_hash:0:12})"

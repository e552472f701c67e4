#!/usr/bin/env bash
# Builds meshwork/app:dev (deploy/Dockerfile), the image of every compose service, with no
# registry: it starts from meshwork/base:bookworm (build-base.sh) and installs the Python packages
# from wheels built here on the host (`pip wheel`, cached by the hash of requirements.txt).
# Cached twice: the image is labelled with the sha256 of the files it is built from and is not
# rebuilt while that matches; when only the source changed, Docker's layer cache keeps the
# dependency layers and only the source layer is rebuilt.
set -euo pipefail
IMAGE="${IMAGE:-meshwork/app:dev}"
BASE_IMAGE="${BASE_IMAGE:-meshwork/base:bookworm}"
CACHE_DIR="${MESHWORK_IMAGE_CACHE:-/var/cache/meshwork}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
PIP="${PIP:-$here/.venv/bin/pip}"

IMAGE="$BASE_IMAGE" bash deploy/images/build-base.sh

# The wheels, once per requirements.txt (and wheels-extra.txt), then copied into the build context (.cache/wheels).
wheels="$CACHE_DIR/wheels-$(cat requirements.txt deploy/images/wheels-extra.txt | sha256sum | cut -c1-16)"
if [ ! -d "$wheels" ]; then
  echo "building wheels for requirements.txt into $wheels"
  mkdir -p "$CACHE_DIR"
  rm -rf "$wheels.tmp"
  "$PIP" wheel -q --disable-pip-version-check -r requirements.txt -r deploy/images/wheels-extra.txt -w "$wheels.tmp" 2> >(grep -v '^WARNING: Location' >&2)
  mv "$wheels.tmp" "$wheels"
fi
if ! cmp -s "$wheels/.source" .cache/wheels/.source 2>/dev/null; then
  rm -rf .cache/wheels && mkdir -p .cache && cp -r "$wheels" .cache/wheels
  basename "$wheels" > .cache/wheels/.source && cp .cache/wheels/.source "$wheels/.source"
fi

# What the image is built from: the base, the wheels and every file of the source tree that git
# would commit (tracked or not, ignored ones excluded), less what .dockerignore keeps out of the
# image too (docs, tests, benchmarks): editing those rebuilds nothing.
base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
source_hash=$( { echo "$base_id"; cat .cache/wheels/.source;
  git ls-files -z --cached --others --exclude-standard -- . ':!docs' ':!tests' ':!bench' ':!*.md' |
    sort -z | xargs -0 sha256sum 2>/dev/null; } | sha256sum | cut -c1-64)
current=$(docker image inspect -f '{{ index .Config.Labels "meshwork.app.source" }}' "$IMAGE" 2>/dev/null || true)
if [ "$current" = "$source_hash" ]; then
  echo "image $IMAGE present (source ${source_hash:0:12})"; exit 0
fi
echo "building $IMAGE"
# The classic builder: BuildKit is not part of Debian's docker.io 20.10 without buildx. Its output
# (and its deprecation notice) is shown only when the build fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! DOCKER_BUILDKIT=0 docker build -f deploy/Dockerfile --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  --label "meshwork.app.source=$source_hash" -t "$IMAGE" . >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "building $IMAGE failed (above)" >&2
  exit 1
fi
echo "built $IMAGE (source ${source_hash:0:12})"

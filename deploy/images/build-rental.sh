#!/usr/bin/env bash
# Builds meshwork/rental-ssh:1, the machine a rental gets (docs/rentals.md), with no registry:
# debootstrap a minimal Debian with an OpenSSH server and iptables (the fence sets the rental's
# egress rules with it) and `docker import` it. What runs in it (sshd's configuration, the
# user, the fence's rules) is passed in by executor/runtime/rental*.py, so the image holds no
# policy and changing that policy rebuilds nothing. Cached: nothing to do when present.
set -euo pipefail
IMAGE="${IMAGE:-meshwork/rental-ssh:1}"  # bump the tag when this script changes
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "image $IMAGE present"; exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }
root=$(mktemp -d /var/tmp/meshwork-rental.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap bookworm with openssh-server into $root (a few minutes)"
debootstrap --variant=minbase --include=openssh-server,iptables,python3-minimal,procps,iproute2 \
  bookworm "$root" "$MIRROR" >/dev/null
# The one login: uid 1000, no password at all, a home that each rental mounts fresh.
chroot "$root" useradd --create-home --uid 1000 --shell /bin/bash meshwork
chroot "$root" usermod --password '*' meshwork  # no password; '!' (locked) would also refuse keys
# No host keys baked in: every rental makes its own at start (two rentals never share one).
rm -f "$root"/etc/ssh/ssh_host_*
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'WORKDIR /' \
  --change 'CMD ["/bin/sh"]' \
  - "$IMAGE" >/dev/null
echo "built $IMAGE"

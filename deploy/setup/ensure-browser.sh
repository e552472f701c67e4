#!/usr/bin/env bash
# Makes sure Debian's headless Chromium is installed for the admin's browser tests
# (tests/browser/): the tests drive /usr/bin/chromium through playwright, which never downloads a
# browser of its own. Idempotent: does nothing when chromium is already there.
set -euo pipefail
CHROMIUM=${MESHWORK_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then exit 0; fi
[ "$(id -u)" = 0 ] || { echo "[setup] chromium is missing and installing it needs root (apt-get install chromium)" >&2; exit 1; }
echo "[setup] installing chromium"
# Another apt run (a parallel setup) holds the lock for a while: wait for it rather than fail.
for _ in 1 2 3; do
  if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      chromium fonts-dejavu-core >/dev/null; then
    break
  fi
  sleep 5
done
[ -x "$CHROMIUM" ] || { echo "[setup] chromium did not install" >&2; exit 1; }
echo "[setup] chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}') installed"

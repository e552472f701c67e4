#!/usr/bin/env bash
# Installs Chopsticks (pinned) into .tools/chopsticks. Idempotent: does nothing when the pinned
# version is already there. Prints the path of the chopsticks executable on stdout.
set -euo pipefail

VERSION="${CHOPSTICKS_VERSION:-1.5.1}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="${CHOPSTICKS_PREFIX:-$ROOT/.tools/chopsticks}"
BIN="$PREFIX/node_modules/.bin/chopsticks"
PKG="$PREFIX/node_modules/@acala-network/chopsticks/package.json"

installed_version() {
    [ -f "$PKG" ] && node -e "console.log(require(process.argv[1]).version)" "$PKG" 2>/dev/null || true
}

if ! command -v npm >/dev/null 2>&1; then
    echo "install.sh: npm is not installed (apt-get install nodejs npm; Node >= 18)" >&2
    exit 1
fi

if [ "$(installed_version)" != "$VERSION" ] || [ ! -x "$BIN" ]; then
    mkdir -p "$PREFIX"
    # A lock directory keeps two concurrent installs (parallel test sessions) from interleaving.
    LOCK="$PREFIX/.install.lock"
    for _ in $(seq 1 600); do
        if mkdir "$LOCK" 2>/dev/null; then break; fi
        sleep 1
    done
    trap 'rmdir "$LOCK" 2>/dev/null || true' EXIT
    if [ "$(installed_version)" != "$VERSION" ] || [ ! -x "$BIN" ]; then
        echo "install.sh: installing @acala-network/chopsticks@$VERSION into $PREFIX" >&2
        npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error \
            "@acala-network/chopsticks@$VERSION" >&2
    fi
fi

"$BIN" --version >/dev/null 2>&1 || { echo "install.sh: $BIN does not run" >&2; exit 1; }
echo "$BIN"

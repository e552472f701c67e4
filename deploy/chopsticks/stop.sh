#!/usr/bin/env bash
# Stops the Chopsticks that start.sh started:  deploy/chopsticks/stop.sh subtensor|hypertensor [STATE_DIR]
set -euo pipefail
RUNTIME="${1:?usage: stop.sh subtensor|hypertensor [STATE_DIR]}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PIDFILE="${2:-$ROOT/.localnet}/chopsticks-$RUNTIME.pid"
[ -f "$PIDFILE" ] || exit 0
PID="$(cat "$PIDFILE")"
if kill -0 "$PID" 2>/dev/null; then
    kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID"  # its own session (setsid): the whole group
    for _ in $(seq 1 40); do kill -0 "$PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$PID" 2>/dev/null || true
fi
rm -f "$PIDFILE"

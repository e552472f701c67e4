#!/usr/bin/env bash
# Starts Chopsticks on a real runtime, in the background, and waits until its RPC answers.
#   deploy/chopsticks/start.sh subtensor|hypertensor PORT [STATE_DIR]
# The raw chain spec comes from CHAIN_FIXTURES_DIR (default ../shared/chain next to the repo).
# Writes STATE_DIR/chopsticks-RUNTIME.{pid,log} (default .localnet/) and prints ws://127.0.0.1:PORT.
# Already running (pid alive and answering) → prints the endpoint and exits 0. Stop with stop.sh.
set -euo pipefail

RUNTIME="${1:?usage: start.sh subtensor|hypertensor PORT [STATE_DIR]}"
PORT="${2:?usage: start.sh subtensor|hypertensor PORT [STATE_DIR]}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${3:-$ROOT/.localnet}"
FIXTURES="${CHAIN_FIXTURES_DIR:-$ROOT/../shared/chain}"
case "$RUNTIME" in
    subtensor) SPEC="$FIXTURES/subtensor-raonet-spec218-raw.json" ;;
    hypertensor) SPEC="$FIXTURES/hypertensor-hoskinson-raw.json" ;;
    *) echo "start.sh: unknown runtime $RUNTIME (subtensor or hypertensor)" >&2; exit 2 ;;
esac
[ -f "$SPEC" ] || { echo "start.sh: missing chain spec $SPEC (set CHAIN_FIXTURES_DIR)" >&2; exit 1; }

mkdir -p "$STATE_DIR"
PIDFILE="$STATE_DIR/chopsticks-$RUNTIME.pid"
LOG="$STATE_DIR/chopsticks-$RUNTIME.log"

answers() {
    curl -sf -m 2 -H 'content-type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"system_chain","params":[]}' "http://127.0.0.1:$PORT" \
        | grep -q '"result"'
}

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && answers; then
    echo "ws://127.0.0.1:$PORT"
    exit 0
fi

BIN="$(bash "$ROOT/deploy/chopsticks/install.sh")"
# --timestamp is required: without it block 1 fails the Aura slot check.
setsid "$BIN" --genesis "$SPEC" --host 127.0.0.1 --port "$PORT" --timestamp 1764000000000 >>"$LOG" 2>&1 &
echo $! >"$PIDFILE"

for _ in $(seq 1 240); do
    if answers; then
        echo "ws://127.0.0.1:$PORT"
        exit 0
    fi
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        echo "start.sh: Chopsticks exited; see $LOG" >&2
        exit 1
    fi
    sleep 0.25
done
echo "start.sh: Chopsticks did not answer on port $PORT within 60 s; see $LOG" >&2
kill -TERM -- "-$(cat "$PIDFILE")" 2>/dev/null || true
exit 1

#!/bin/sh
# Entry of every compose node container: load what the init service wrote for the whole network
# (deploy/compose/init.py: hotkeys of the facilitator and the subnet owner, the Django secret, the
# chain and verification settings), then run the node's command.
set -eu
env_file="${MESHWORK_STATE:-/state}/network.env"
[ -r "$env_file" ] || { echo "node: $env_file is missing: the init service has not run" >&2; exit 1; }
set -a
# shellcheck disable=SC1090  # written at run time by init.py
. "$env_file"
set +a
exec "$@"

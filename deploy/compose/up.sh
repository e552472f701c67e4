#!/usr/bin/env bash
# `make compose`: build the images when they changed, bring the compose network up, wait until the
# facilitator answers and a validator holds a session with it, then print how to use it.
# COMPOSE_PROJECT_NAME and MESHWORK_COMPOSE_*_PORT move it (the compose test runs its own).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
port="${MESHWORK_COMPOSE_FACILITATOR_PORT:-9000}"
timeout="${MESHWORK_COMPOSE_TIMEOUT:-300}"
bash deploy/setup/ensure-compose.sh
bash deploy/images/build-app.sh
docker-compose up -d --remove-orphans
echo "waiting for the network (up to ${timeout}s) ..."
deadline=$((SECONDS + timeout))
until curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz/" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "the facilitator did not answer on 127.0.0.1:$port in ${timeout}s; see: docker-compose logs" >&2
    exit 1
  fi
  if [ "$(docker-compose ps -q init | xargs -r docker inspect -f '{{.State.Status}} {{.State.ExitCode}}')" = "exited 1" ]; then
    docker-compose logs --no-color --tail 30 init >&2
    echo "the init service failed (above)" >&2
    exit 1
  fi
  sleep 2
done
creds=$(docker-compose run --rm --no-deps -T --user 0:0 --entrypoint cat init /state/credentials.json)
token=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["api_token"])' <<<"$creds")
password=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["admin_password"])' <<<"$creds")
cat <<TEXT
Meshwork compose network is up (project ${COMPOSE_PROJECT_NAME:-$(basename "$here")}).
$creds
Submit a job:
  curl -s -X POST http://127.0.0.1:$port/api/v1/jobs/ -H 'Authorization: Token $token' \\
    -H 'Content-Type: application/json' \\
    -d '{"image": "meshwork/job-python:3.11", "args": ["python3", "-c", "print(6*7)"]}'
Admin: http://127.0.0.1:$port/admin/ (admin / $password); the validator's: http://127.0.0.1:${MESHWORK_COMPOSE_VALIDATOR_PORT:-9200}/admin/
Logs: docker-compose logs -f [service]; stop and remove everything: make compose-down
TEXT

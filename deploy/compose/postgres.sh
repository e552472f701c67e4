#!/bin/sh
# The compose network's PostgreSQL, from the app image (no registry to pull postgres from): a
# cluster made on first start in the volume, password auth for the other containers.
set -eu
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
: "${PGPASSWORD:?set PGPASSWORD (docker-compose.yml: MESHWORK_POSTGRES_PASSWORD)}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$PGPASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U postgres -E UTF8 --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pwfile" >/dev/null
  rm -f "$pwfile"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
# Every node process, Celery worker and DHT process holds connections: more than the default 100.
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp -c max_connections=300

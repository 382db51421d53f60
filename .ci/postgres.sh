#!/usr/bin/env bash
# Start a throw-away PostgreSQL on 127.0.0.1 for the tests and print its URL.
#
#   eval "$(.ci/postgres.sh)"      # exports QA_TOOLKIT_TEST_PG_URL
#   .ci/postgres.sh --stop         # stop it again
#
# Installs Debian's postgresql when no server binaries are found (needs root or sudo), then
# runs its own cluster in $QA_PG_DATA (default /tmp/qa_toolkit_pg) on port $QA_PG_PORT
# (default 55432), loopback only, trust authentication: never use it for real data.
# Idempotent and fast (< 1 s) when the cluster is already running. Only the export line goes
# to stdout; progress goes to stderr.
set -euo pipefail

PORT="${QA_PG_PORT:-55432}"
DATA="${QA_PG_DATA:-/tmp/qa_toolkit_pg}"
ROLE="${QA_PG_ROLE:-qa}"
DB="${QA_PG_DB:-qa_toolkit_test}"
URL="postgresql+psycopg://${ROLE}@127.0.0.1:${PORT}/${DB}"

say() { echo "postgres.sh: $*" >&2; }

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  say "installing Debian's postgresql"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2 \
    || { say "cannot install postgresql (need root or sudo); tests needing it will be skipped"; exit 1; }
  BIN="$(find_bin)"
fi

# initdb and the server refuse to run as root: use the postgres account then.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
  pg() { runuser -u postgres -- "$@"; }
else
  pg() { "$@"; }
fi

if [ "${1:-}" = "--stop" ]; then
  pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true
  exit 0
fi

if ! pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  if [ ! -f "$DATA/PG_VERSION" ]; then
    say "creating cluster in $DATA"
    mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres: "$DATA"
    chmod 700 "$DATA"
    pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
      || pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >&2
  fi
  say "starting on 127.0.0.1:$PORT"
  # fsync off: a test cluster trades durability for speed. Socket in the data dir (no /run needed).
  pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 30 start \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2 \
    || { tail -20 "$DATA/server.log" >&2; exit 1; }
fi

psql_() { pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAq -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_ -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  psql_ -c "CREATE ROLE \"$ROLE\" LOGIN CREATEDB" >&2
fi
if [ "$(psql_ -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_ -c "CREATE DATABASE \"$DB\" OWNER \"$ROLE\"" >&2
fi
echo "export QA_TOOLKIT_TEST_PG_URL='$URL'"

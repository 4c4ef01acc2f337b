#!/usr/bin/env bash
# Starts the project's private PostgreSQL cluster if it is not running, creates the
# database named $1 (default: settle) if it does not exist, and prints its DATABASE_URL.
# The cluster lives in .data/pg (git-ignored) and listens only on a Unix socket inside it.
# As root, the server runs as the `postgres` OS user (initdb refuses root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
db=${1:-settle}

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "PostgreSQL server not found: installing Debian's postgresql package" >&2
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
  else
    echo "run as root, or install postgresql, or set DATABASE_URL" >&2
    exit 1
  fi
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir="$root/.data/pg"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$root/.data"
  # postgres must be able to enter every parent folder, and the socket path must stay short.
  if ! runuser -u postgres -- test -x "$root/.data" 2>/dev/null || [ ${#dir} -gt 80 ]; then
    dir="/var/tmp/settle-pg-$(printf '%s' "$root" | sha1sum | cut -c1-12)"
  fi
elif [ ${#dir} -gt 80 ]; then
  dir="/tmp/settle-pg-$(printf '%s' "$root" | sha1sum | cut -c1-12)"
fi

if [ ! -f "$dir/PG_VERSION" ]; then
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  as_pg "$pgbin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
    { cat "$dir.initdb.log" >&2; exit 1; }
  cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 128MB
CONF
fi

if ! as_pg "$pgbin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  as_pg "$pgbin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 start >/dev/null ||
    { tail -n 20 "$dir/server.log" >&2; exit 1; }
fi

exists=$("$pgbin/psql" -h "$dir" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ "$exists" != 1 ]; then
  "$pgbin/psql" -h "$dir" -U postgres -d postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
fi
echo "postgres://postgres@localhost/$db?host=$dir"

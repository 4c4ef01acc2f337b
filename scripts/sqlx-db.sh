#!/usr/bin/env bash
# Recreates the database `settle_sqlx` on the server of the DATABASE_URL given as $1, applies
# the migrations (server/migrations, in order) and prints its URL: the schema the query
# macros are checked against when their offline data (.sqlx) is prepared.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
url=$1
base=${url%%\?*}
query=""
[[ "$url" == *\?* ]] && query="?${url#*\?}"
server_part=${base%/*}
db_url="$server_part/settle_sqlx$query"
psql -q "$server_part/postgres$query" -c "DROP DATABASE IF EXISTS settle_sqlx WITH (FORCE)" -c "CREATE DATABASE settle_sqlx" >/dev/null
for f in "$root"/server/migrations/*.sql; do
  psql -q -v ON_ERROR_STOP=1 "$db_url" -f "$f" >/dev/null
done
echo "$db_url"

#!/usr/bin/env bash
# Recreates the browser tests' database `settle_e2e` on the server of the DATABASE_URL
# given as $1 and prints its URL. The app seeds the demo data into it when it starts.
set -euo pipefail
url=$1
base=${url%%\?*}
query=""
[[ "$url" == *\?* ]] && query="?${url#*\?}"
server_part=${base%/*}
e2e_url="$server_part/settle_e2e$query"
admin_url="$server_part/postgres$query"
psql -q "$admin_url" -c "DROP DATABASE IF EXISTS settle_e2e WITH (FORCE)" -c "CREATE DATABASE settle_e2e" >/dev/null
echo "$e2e_url"

#!/usr/bin/env bash
# Recreates a database (`settle_e2e`, or the name given as $2) on the server of the
# DATABASE_URL given as $1 and prints its URL. The app seeds the demo data into it when it
# starts.
set -euo pipefail
url=$1
name=${2:-settle_e2e}
base=${url%%\?*}
query=""
[[ "$url" == *\?* ]] && query="?${url#*\?}"
server_part=${base%/*}
e2e_url="$server_part/$name$query"
admin_url="$server_part/postgres$query"
psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
echo "$e2e_url"

#!/usr/bin/env bash
# `make cluster`: the release build as SETTLE_INSTANCES (default 2) instances on one
# PostgreSQL (DATABASE_URL, else the project's own `settle` database, with demo data) behind
# HAProxy at http://127.0.0.1:3300. Ctrl-C stops every process.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
cluster_db_url=${DATABASE_URL:-$(scripts/pg.sh settle)}
scripts/release.sh
source scripts/cluster.sh
echo "Settle: $cluster_url (HAProxy) → ${#cluster_pids[@]} instances, logs in $cluster_dir"
wait "$haproxy_pid"

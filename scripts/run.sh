#!/usr/bin/env bash
# Builds (release) and serves Settle at http://127.0.0.1:3000 (LEPTOS_SITE_ADDR) with demo data.
# Uses DATABASE_URL when set, else the project's own PostgreSQL (scripts/pg.sh).
# `run.sh seed` only loads the demo data into an empty database.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh settle)
  export DATABASE_URL
fi
export SETTLE_DEMO=${SETTLE_DEMO:-1}
# The release build: what `make release` ships and what the browser tests drive.
scripts/release.sh
export LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
exec "$target_dir/release/app" "$@"

#!/usr/bin/env bash
# The query macros' offline data (.sqlx): every build reads it (SQLX_OFFLINE=true in env.sh),
# so no build needs a database. This script compiles the `server` crate against a freshly
# migrated database and writes what the macros found there into .sqlx (`make sqlx-prepare`),
# or, with --check, fails when .sqlx differs from it (`make test` runs that).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
check=${1:-}
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh settle_test)
fi
url=$(scripts/sqlx-db.sh "$DATABASE_URL")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dir="$target_dir/sqlx-prepare"
# Only `server` holds SQL; recompiling it (and nothing else) re-runs every query macro.
cargo clean -q -p server --target-dir "$dir" 2>/dev/null || true
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" DATABASE_URL="$url" \
  cargo check -q -p server --lib --target-dir "$dir"
if [ "$check" = "--check" ]; then
  if ! diff -r -q .sqlx "$out" >/dev/null 2>&1; then
    diff -r -q .sqlx "$out" || true
    echo "the query macros' offline data (.sqlx) is not current: run \`make sqlx-prepare\` and commit .sqlx" >&2
    exit 1
  fi
  echo ".sqlx is current ($(ls "$out" | wc -l) queries)"
else
  rm -rf .sqlx
  cp -r "$out" .sqlx
  echo "wrote .sqlx ($(ls .sqlx | wc -l) queries)"
fi

#!/usr/bin/env bash
# Prints how long System → Import takes for 100,000 invoice rows (IMPORT_ROWS) on the
# release build: the preview (the whole import, rolled back), the commit, and the same file
# again (all unchanged), on a fresh database settle_bench_import. A benchmark, not a test.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh settle_test)
fi
db=$(scripts/e2e-db.sh "$DATABASE_URL" settle_bench_import)
release_bins --bin bench_import
DATABASE_URL="$db" "$target_dir/release/bench_import"

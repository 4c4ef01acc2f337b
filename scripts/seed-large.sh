#!/usr/bin/env bash
# `make seed-large`: a fresh database (SETTLE_LARGE_DB, default settle_large) with the demo data
# and 100,000 companies, 1,000,000 invoices, 200,000 saved cards and 500,000 payments, loaded
# with COPY by the release build of server/src/bin/seed_large.rs; prints the time it took.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
export DATABASE_URL=${DATABASE_URL:-$(scripts/pg.sh settle)}
release_bins --bin seed_large
"$target_dir/release/seed_large"

#!/usr/bin/env bash
# Time to interactive of a staff company page with the release build (Playwright in
# Chromium, median of 5 cold and 5 warm loads). A benchmark: prints figures, asserts nothing.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh settle_test)
  export DATABASE_URL
fi
scripts/release.sh
source scripts/e2e-server.sh
cd end2end
BASE_URL="http://127.0.0.1:$e2e_port" E2E_DATABASE_URL="$e2e_url" npx playwright test --config bench.config.ts

#!/usr/bin/env bash
# Every check: formatting, clippy on both feature sets, unit, database, HTTP and
# browser (Playwright + Chromium) tests, the browser tests against the release build that
# `make release` produces. Uses DATABASE_URL when set, else the project's own PostgreSQL.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

step "format"
cargo fmt --all -- --check

step "clippy (server side: ssr)"
cargo clippy --workspace --all-targets --features app/ssr -- -D warnings
step "clippy (browser side: hydrate, wasm32)"
cargo clippy -p app -p shared --lib --target wasm32-unknown-unknown --features app/hydrate -- -D warnings

step "database"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh settle_test)
  export DATABASE_URL
fi

step "unit, database and HTTP tests"
cargo test --workspace --features app/ssr

step "the query macros' offline data (.sqlx) matches the migrations"
scripts/sqlx-prepare.sh --check

step "the release build (what make release ships)"
scripts/release.sh

step "a release server whose site and hash list disagree refuses to start, naming the file"
# The binary copied on its own (no hash.txt beside it) would name unhashed files the site
# does not hold: pages that never become interactive. It must say so and not serve.
lonely=$(mktemp -d)
cp "$target_dir/release/app" "$lonely/app"
if refused=$(LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg SETTLE_DEMO=1 \
  DATABASE_URL=postgres://nobody@127.0.0.1:9/none timeout 20 "$lonely/app" 2>&1); then
  echo "the server started without hash.txt: $refused" >&2
  exit 1
fi
rm -rf "$lonely"
grep -q "settle.js that pages would name" <<<"$refused" ||
  { echo "the refusal did not name the missing file: $refused" >&2; exit 1; }
echo "refused: ${refused#settle: }"

step "the browser bundle within its size budget"
scripts/bundle-size.sh --check

step "browser tests against the release server and site"
source scripts/e2e-server.sh
source scripts/e2e-stripe.sh
trap 'stop_e2e_server; stop_e2e_stripe' EXIT
if ! (cd end2end && BASE_URL="http://127.0.0.1:$e2e_port" E2E_DATABASE_URL="$e2e_url" E2E_SERVER_LOG="$e2e_log" \
  npx playwright test); then
  explain_e2e_failure
  echo "==> the end of the Stripe server's log ($stripe_log)" >&2
  tail -n 30 "$stripe_log" >&2
  exit 1
fi
stop_e2e_stripe

step "the API from outside: OpenAPI document validated (Redocly), the running API fuzzed (Schemathesis)"
scripts/api-check.sh "http://127.0.0.1:$e2e_port" "$e2e_url"
stop_e2e_server

step "the ledger identity on what the browser tests and the fuzzer left (payments, refunds, reversals)"
DATABASE_URL="$e2e_url" "$target_dir/debug/ledger_check"

step "two instances behind HAProxy: shared sessions and limits, an instance killed under load"
cluster_db_url=$(scripts/e2e-db.sh "$DATABASE_URL" settle_cluster)
# Short gateway waits, so what the killed instance left processing is due within seconds.
SETTLE_GATEWAY_TIMEOUT_MS=2000 SETTLE_RECONCILE_EVERY_MS=1000 source scripts/cluster.sh
(cd end2end && BASE_URL="$cluster_url" E2E_DATABASE_URL="$cluster_db_url" \
  CLUSTER_PIDS=$(IFS=,; echo "${cluster_pids[*]}") npx playwright test --config cluster.config.ts)
stop_cluster

step "no panic in the server logs"
if grep -n "panicked" "$e2e_log" "$cluster_dir"/instance-*.log | head -5; then
  echo "a server panicked while the browser tests ran (see $e2e_log, $cluster_dir)" >&2
  exit 1
fi

step "no full card number in the database or the server log"
scripts/no-card-numbers.sh "$e2e_url" "$e2e_log"

printf '\nall checks passed in %ss\n' $((SECONDS - started))

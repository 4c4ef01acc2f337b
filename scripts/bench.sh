#!/usr/bin/env bash
# `make bench`: every figure of the release build in one run, each a `name=value` line. Builds
# what `make release` ships, loads the large book once (`make seed-large`; reused while it is
# there), starts the release server on it and runs server/src/bin/bench_load.rs against it: Open
# Invoices pages (20 and 10,000 invoices), company search per kind with its plans, payments
# over HTTP beside the bare SQL of the same transaction, the server's RSS; then the NACHA
# rail's file of 10,000 debits and file of 1,000 returns (server/src/bin/bench_ach.rs); then
# payments through the Stripe adapter beside the sandbox (server/src/bin/bench_stripe.rs); then
# the browser bundle's sizes. Prints figures; asserts nothing about time.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
export DATABASE_URL=${DATABASE_URL:-$(scripts/pg.sh settle)}
scripts/release.sh >/dev/null
# The benchmarks' programs link the server library the release build compiled.
release_bins --bin bench_load --bin bench_ach --bin bench_stripe

large_db=${SETTLE_LARGE_DB:-settle_large}
base=${DATABASE_URL%%\?*}
query=""
[[ "$DATABASE_URL" == *\?* ]] && query="?${DATABASE_URL#*\?}"
large_url="${base%/*}/$large_db$query"
if [ "$(psql -tA "$large_url" -c "SELECT count(*) >= 100000 FROM companies" 2>/dev/null)" != "t" ]; then
  SETTLE_LARGE_DB=$large_db scripts/seed-large.sh
fi

port=${BENCH_PORT:-3190}
log="$target_dir/bench-server.log"
pid=""
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
# The release server on the large book, with the environment given ("NAME=value" words).
start_server() {
  env LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="127.0.0.1:$port" \
    DATABASE_URL="$large_url" SETTLE_DEMO=1 RUST_LOG=warn SETTLE_DASHBOARD_EVERY_MS=3600000 "$@" \
    "$target_dir/release/app" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/login" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "the app did not start" >&2; exit 1; }
    sleep 0.2
  done
}
stop_server() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
start_server

# (The dashboard's figures are made in process by the benchmark, timed on their own, rather
# than by the server in the middle of another phase.)
# The server has applied any new migration: statistics and visibility as a day's autovacuum
# would leave them.
psql -q "$large_url" -c "VACUUM ANALYZE"

BENCH_URL="http://127.0.0.1:$port" BENCH_DATABASE_URL="$large_url" BENCH_SERVER_PID=$pid \
  "$target_dir/release/bench_load"
stop_server

# PostgreSQL round trips per payment, from the statement log of the project's own cluster: the
# large book's database logs every statement for a server started with its background work
# paused, so what the log gains while payments run is theirs.
pg_log="$(psql -tA "$large_url" -c "SHOW data_directory" 2>/dev/null)/server.log"
if [ -r "$pg_log" ]; then
  psql -q "$large_url" -c "ALTER DATABASE $large_db SET log_statement = 'all'"
  hour=3600000
  start_server SETTLE_RECONCILE_EVERY_MS=$hour SETTLE_WEBHOOK_POLL_MS=$hour SETTLE_EMAIL_POLL_MS=$hour \
    SETTLE_CARD_NOTICES_EVERY_MS=$hour SETTLE_STATEMENTS_EVERY_MS=$hour SETTLE_ACH_SYNC_MS=$hour
  BENCH_URL="http://127.0.0.1:$port" BENCH_DATABASE_URL="$large_url" BENCH_PG_LOG="$pg_log" \
    "$target_dir/release/bench_load" || true
  stop_server
  psql -q "$large_url" -c "ALTER DATABASE $large_db RESET log_statement"
else
  echo "# payment_round_trips: not measured (PostgreSQL's log is not readable here: $pg_log)"
fi

# The NACHA rail on a fresh database: a 10,000-debit file written, a 1,000-return file applied.
ach_db=$(scripts/e2e-db.sh "$DATABASE_URL" settle_bench_ach)
DATABASE_URL="$ach_db" "$target_dir/release/bench_ach"

# Payments through the Stripe adapter beside the sandbox, against Stripe's API as its published
# description defines it (scripts/stripe-mock.py), on a fresh database.
stripe_db=$(scripts/e2e-db.sh "$DATABASE_URL" settle_bench_stripe)
port_file=$(mktemp) && rm -f "$port_file"
.data/venv/bin/python scripts/stripe-mock.py "$port_file" >"$target_dir/bench-stripe-mock.log" 2>&1 &
mock_pid=$!
trap 'kill $pid $mock_pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do [ -s "$port_file" ] && break; sleep 0.1; done
DATABASE_URL="$stripe_db" STRIPE_API_BASE="http://127.0.0.1:$(cat "$port_file")" \
  "$target_dir/release/bench_stripe"
kill $mock_pid 2>/dev/null || true
rm -f "$port_file"

scripts/bundle-size.sh --print

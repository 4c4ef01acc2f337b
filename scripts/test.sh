#!/usr/bin/env bash
# Every check: formatting, clippy on both feature sets, unit, database, HTTP and
# browser (Playwright + Chromium) tests. Uses DATABASE_URL when set, else the project's
# own PostgreSQL.
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

step "build the app"
cargo leptos build

step "browser tests"
e2e_url=$(scripts/e2e-db.sh "$DATABASE_URL")
port=${E2E_PORT:-3107}
log="$root/target/e2e-server.log"
LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="127.0.0.1:$port" \
  DATABASE_URL="$e2e_url" SETTLE_DEMO=1 RUST_LOG=info "$target_dir/debug/app" >"$log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/login"; then break; fi
  if ! kill -0 $server_pid 2>/dev/null; then cat "$log"; echo "the app did not start" >&2; exit 1; fi
  sleep 0.2
done
(cd end2end && BASE_URL="http://127.0.0.1:$port" E2E_DATABASE_URL="$e2e_url" npx playwright test)
kill $server_pid 2>/dev/null || true
wait $server_pid 2>/dev/null || true

step "no full card number in the database or the server log"
scripts/no-card-numbers.sh "$e2e_url" "$log"

step "the browser build in its release profile (what make release ships)"
cargo build -p app --lib --target wasm32-unknown-unknown --features app/hydrate --profile wasm-release

printf '\nall checks passed in %ss\n' $((SECONDS - started))

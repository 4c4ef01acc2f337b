# Sourced (not run) by test.sh: Settle with Stripe as its gateway for the browser tests.
# Starts Stripe's API as its published description defines it (scripts/stripe-mock.py, each
# request checked against server/tests/stripe/spec3.json) and a second release server on its
# own database `settle_e2e_stripe` (E2E_STRIPE_PORT, default 3109) with SETTLE_GATEWAY=stripe
# pointed at it. Exports STRIPE_E2E_URL, STRIPE_E2E_DATABASE_URL and STRIPE_MOCK_URL for the
# tests; `stop_e2e_stripe` stops both.
stripe_db_url=$("$root/scripts/e2e-db.sh" "$DATABASE_URL" settle_e2e_stripe)
stripe_port=${E2E_STRIPE_PORT:-3109}
stripe_log="$root/target/e2e-stripe-server.log"
stripe_port_file=$(mktemp)
rm -f "$stripe_port_file"
"$root/.data/venv/bin/python" "$root/scripts/stripe-mock.py" "$stripe_port_file" \
  >"$root/target/stripe-mock.log" 2>&1 &
stripe_mock_pid=$!
for _ in $(seq 1 150); do [ -s "$stripe_port_file" ] && break; sleep 0.1; done
[ -s "$stripe_port_file" ] || { cat "$root/target/stripe-mock.log"; echo "the Stripe mock did not start" >&2; exit 1; }
export STRIPE_MOCK_URL="http://127.0.0.1:$(cat "$stripe_port_file")"
rm -f "$stripe_port_file"
LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="127.0.0.1:$stripe_port" \
  DATABASE_URL="$stripe_db_url" SETTLE_DEMO=1 RUST_LOG=info \
  SETTLE_PUBLIC_URL="http://127.0.0.1:$stripe_port" SETTLE_SMTP_URL="smtp://127.0.0.1:9" \
  SETTLE_GATEWAY=stripe STRIPE_SECRET_KEY=sk_test_settle_e2e STRIPE_PUBLISHABLE_KEY=pk_test_settle_e2e \
  STRIPE_WEBHOOK_SECRET=whsec_settle_e2e STRIPE_API_BASE="$STRIPE_MOCK_URL" \
  "$target_dir/release/app" >"$stripe_log" 2>&1 &
stripe_server_pid=$!
export STRIPE_E2E_URL="http://127.0.0.1:$stripe_port" STRIPE_E2E_DATABASE_URL="$stripe_db_url" \
  STRIPE_WEBHOOK_SECRET=whsec_settle_e2e
stop_e2e_stripe() {
  stop_processes "$stripe_server_pid" "$stripe_mock_pid"
}
for _ in $(seq 1 300); do
  if curl -fs -o /dev/null "$STRIPE_E2E_URL/login"; then break; fi
  if ! kill -0 "$stripe_server_pid" 2>/dev/null; then
    cat "$stripe_log"
    echo "the app with Stripe did not start" >&2
    exit 1
  fi
  sleep 0.2
done

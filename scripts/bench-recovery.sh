#!/usr/bin/env bash
# Recovery after a crash in the middle of a charge, with the release build: starts the
# server with a slow sandbox gateway (SETTLE_SANDBOX_DELAY_MS, default 3000), pays an invoice
# over HTTP, kills the server with SIGKILL while the gateway is still working on the charge,
# starts it again and prints how long until the payment is recorded (and that it was charged
# once). A benchmark: it prints figures and asserts nothing about time.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh settle_test)
  export DATABASE_URL
fi
scripts/release.sh >/dev/null
export SETTLE_SANDBOX_DELAY_MS=${SETTLE_SANDBOX_DELAY_MS:-3000}
source scripts/e2e-server.sh
base="http://127.0.0.1:$e2e_port"
q() { psql "$e2e_url" -tAc "$1"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }

cookie=$(curl -fsS -o /dev/null -D - -H 'Accept: application/json' \
  --data-urlencode 'email=clerk@settle.example' --data-urlencode 'password=demo-clerk-pass' \
  "$base/api/login" | sed -n 's/^set-cookie: \(settle_session=[^;]*\).*/\1/Ip' | head -1)
read -r invoice amount < <(q "SELECT id, balance FROM invoices WHERE company_id = (SELECT id FROM companies WHERE code = 'C1004') AND balance > 0 ORDER BY due_date LIMIT 1" | tr '|' ' ')
method=$(q "SELECT id FROM payment_methods WHERE company_id = (SELECT id FROM companies WHERE code = 'C1004') AND last4 = '4242'")
key=$(cat /proc/sys/kernel/random/uuid)
body=$(printf '{"payment":{"company":"C1004","method_id":%s,"lines":[{"invoice_id":%s,"amount":"%s","short_pay_reason":""}],"consent_channel":"phone","consent_reference":"Recovery benchmark","idempotency_key":"%s"}}' \
  "$method" "$invoice" "$amount" "$key")
curl -sS -o /dev/null -H "Cookie: $cookie" -H 'Content-Type: application/json' -d "$body" "$base/api/pay_invoices" &
started=$(date +%s.%N)
# Kill once the payment is recorded as processing and its charge is on its way.
until [ "$(q "SELECT count(*) FROM payments WHERE idempotency_key = '$key'")" = 1 ]; do sleep 0.05; done
sleep 1
kill -9 "$server_pid"
killed=$(date +%s.%N)
wait "$server_pid" 2>/dev/null || true
echo "killed the server $(secs "$killed" "$started") s into the payment; status: $(q "SELECT status FROM payments WHERE idempotency_key = '$key'")"

LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="127.0.0.1:$e2e_port" \
  DATABASE_URL="$e2e_url" SETTLE_DEMO=1 RUST_LOG=info "$target_dir/release/app" >>"$e2e_log" 2>&1 &
server_pid=$!
restarted=$(date +%s.%N)
until [ "$(q "SELECT status FROM payments WHERE idempotency_key = '$key'")" != processing ]; do sleep 0.1; done
done_at=$(date +%s.%N)
echo "restarted; payment $(q "SELECT status FROM payments WHERE idempotency_key = '$key'") after" \
  "$(secs "$done_at" "$restarted") s from the restart, $(secs "$done_at" "$killed") s from the kill," \
  "$(secs "$done_at" "$started") s from the start"
echo "gateway charges for this payment: $(q "SELECT count(*) FROM sandbox_charges WHERE idempotency_key = '$key'")"
echo "balance of the invoice: $(q "SELECT balance FROM invoices WHERE id = $invoice") (was $amount)"

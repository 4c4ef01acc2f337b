# Sourced (not run) by test.sh and the browser benchmarks: recreates the browser tests'
# database `settle_e2e` on DATABASE_URL's server, starts the release server on it
# (E2E_PORT, default 3107; demo data seeded at start) and waits until it answers.
# Its email goes to a fresh mail catcher (scripts/mail-catcher.sh; SMTP E2E_SMTP_PORT, default
# 1125; inbox and API at E2E_MAIL_PORT, default 1180), exported as MAIL_URL for the tests.
# This machine is its trusted proxy: a test names a client of its own in X-Forwarded-For
# (the sign-in burst), so the limits it reaches never touch the suite's other sign-ins.
# Sets e2e_url, e2e_port, e2e_log and server_pid; `stop_e2e_server` stops both.
e2e_url=$("$root/scripts/e2e-db.sh" "$DATABASE_URL")
e2e_port=${E2E_PORT:-3107}
e2e_smtp_port=${E2E_SMTP_PORT:-1125}
e2e_mail_port=${E2E_MAIL_PORT:-1180}
"$root/scripts/mail-catcher.sh" stop "$e2e_mail_port"
"$root/scripts/mail-catcher.sh" start "$e2e_smtp_port" "$e2e_mail_port"
export MAIL_URL="http://127.0.0.1:$e2e_mail_port" MAIL_SMTP_PORT="$e2e_smtp_port"
e2e_log="$root/target/e2e-server.log"
mkdir -p "$root/target"
# ACH debits go to the bank as NACHA files on this server (the demo's own bank accounts stay at
# the sandbox gateway that tokenized them); the browser test reads and writes these folders.
export ACH_OUTBOX="$root/target/e2e-ach/outbox" ACH_INBOX="$root/target/e2e-ach/inbox"
rm -rf "$root/target/e2e-ach"
mkdir -p "$ACH_OUTBOX" "$ACH_INBOX"
LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR="127.0.0.1:$e2e_port" \
  DATABASE_URL="$e2e_url" SETTLE_DEMO=1 RUST_LOG=info \
  SETTLE_WEBHOOK_POLL_MS=300 SETTLE_WEBHOOK_RETRY_BASE_MS=500 SETTLE_API_RATE_PER_MINUTE=100000 \
  SETTLE_SMTP_URL="smtp://127.0.0.1:$e2e_smtp_port" SETTLE_PUBLIC_URL="http://127.0.0.1:$e2e_port" \
  SETTLE_EMAIL_POLL_MS=300 SETTLE_EMAIL_RETRY_BASE_MS=500 SETTLE_CARD_NOTICES_EVERY_MS=2000 SETTLE_STATEMENTS_EVERY_MS=2000 \
  SETTLE_ACH_SYNC_MS=1000 SETTLE_SANDBOX_ACH_AFTER_MS=3000 SETTLE_SANDBOX_DISPUTE_AFTER_MS=8000 SETTLE_WEBHOOK_ALLOW_LOOPBACK=1 \
  SETTLE_TRUSTED_PROXIES=127.0.0.1 \
  SETTLE_ACH_RAIL=nacha SETTLE_NACHA_ODFI_ROUTING=021000021 SETTLE_NACHA_ODFI_NAME="JPMorgan Chase Bank" \
  SETTLE_NACHA_ORIGIN=1234567890 SETTLE_NACHA_CUTOFFS=23:59 \
  SETTLE_NACHA_OUTBOX="$ACH_OUTBOX" SETTLE_NACHA_INBOX="$ACH_INBOX" \
  SETTLE_ACH_VAULT_KEY=5e771e00000000000000000000000000000000000000000000000000e2e0e2e0 \
  "$target_dir/release/app" >"$e2e_log" 2>&1 &
server_pid=$!
stop_e2e_server() {
  stop_processes "$server_pid"
  "$root/scripts/mail-catcher.sh" stop "$e2e_mail_port"
}
# After a failed browser run: whether the app still answers, what its database is doing and
# the end of its log, so a failure far away (CI) says why.
explain_e2e_failure() {
  echo "==> after the failure: the app (pid $server_pid)" >&2
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "running; $(ls "/proc/$server_pid/fd" 2>/dev/null | wc -l) open files," \
      "/login answers: $(curl -s -m 5 -o /dev/null -w '%{http_code} in %{time_total} s' \
        "http://127.0.0.1:$e2e_port/login" || echo 'nothing within 5 s')" >&2
  else
    echo "not running" >&2
  fi
  echo "==> its database sessions that are not idle" >&2
  psql -X -q "$e2e_url" -c "SELECT pid, state, wait_event_type, wait_event,
      (now() - xact_start)::interval(0) AS in_transaction, left(query, 120) AS query
    FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state <> 'idle' ORDER BY xact_start" >&2 || true
  echo "==> the end of its log ($e2e_log)" >&2
  tail -n 60 "$e2e_log" | sed 's/\x1b\[[0-9;]*m//g' >&2
}
trap stop_e2e_server EXIT
for _ in $(seq 1 300); do
  if curl -fs -o /dev/null "http://127.0.0.1:$e2e_port/login"; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$e2e_log"
    echo "the app did not start" >&2
    exit 1
  fi
  sleep 0.2
done

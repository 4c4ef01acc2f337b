#!/usr/bin/env bash
# Builds (release) and serves Settle at http://127.0.0.1:3000 (LEPTOS_SITE_ADDR) with demo data.
# Uses DATABASE_URL when set, else the project's own PostgreSQL (scripts/pg.sh).
# `run.sh seed` only loads the demo data into an empty database.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(scripts/pg.sh settle)
  export DATABASE_URL
fi
export SETTLE_DEMO=${SETTLE_DEMO:-1}
# Every email goes to a local mail catcher with a web inbox, unless SETTLE_SMTP_URL says
# otherwise (MAIL_SMTP_PORT / MAIL_WEB_PORT, default 1025 / 1080).
if [ -z "${SETTLE_SMTP_URL:-}" ]; then
  mail_smtp=${MAIL_SMTP_PORT:-1025}
  mail_web=${MAIL_WEB_PORT:-1080}
  scripts/mail-catcher.sh start "$mail_smtp" "$mail_web"
  export SETTLE_SMTP_URL="smtp://127.0.0.1:$mail_smtp"
  mail_note="Emails: read them at http://127.0.0.1:$mail_web (MailDev, SMTP on :$mail_smtp)"
fi
# The release build: what `make release` ships and what the browser tests drive.
scripts/release.sh
export LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg
export LEPTOS_SITE_ADDR=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
export SETTLE_PUBLIC_URL=${SETTLE_PUBLIC_URL:-http://$LEPTOS_SITE_ADDR}
echo "Settle: http://$LEPTOS_SITE_ADDR"
if [ -n "${mail_note:-}" ]; then echo "$mail_note"; fi
exec "$target_dir/release/app" "$@"

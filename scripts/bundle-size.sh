#!/usr/bin/env bash
# The browser bundle of the release site (target/site/pkg, built by scripts/release.sh with
# split WASM): its sizes as `name=value` lines (--print, for make bench), or, with --check
# (make test), a failure when what a browser downloads exceeds its budget. Sizes are brotli
# bytes, as served. The first load (the login page, the portal) is the main WASM, its JS and
# the CSS; the staff screens are chunks loaded when a clerk goes to one. The budgets are
# today's sizes and a little room: lower them as the bundle shrinks, raise them only on purpose.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
# Raised from 435,000 on purpose: the payment dialog and the add-method form (in the first
# load, the portal pays with them) also pay through an emailed pay link (435,380 B; the
# pay-link sender itself stays with the staff screens); from 440,000 when the add-card form
# came to take cards in Stripe's own field when Stripe is the gateway, and the receipt to show
# a dispute: 443,497–444,195 B over five builds of the same code (the WASM split places
# functions differently from build to build, a few hundred bytes either way; Stripe.js's loading
# and calls are a chunk of their own, loaded only then); from 446,000 when the receipt (the
# portal's too) came to list a payment's refunds, reversals and disputes, with their types in
# every receipt the browser reads: 453,046 B; from 455,000 when the seller's terms came to the
# invoice table and the payment dialog that the portal and pay links use too: the short-pay
# reason list (a select loaded from the seller's codes, +4.4 KB) and the company's payment
# policy, checked as the payer submits and said under the total (+7.7 KB): 465,104 B; from
# 468,000 when credit on account and card surcharges came to the same screens (the credit strip
# and its Apply credit dialog above the portal's invoices, the on-account field, the surcharge
# line and its arithmetic in the dialog, the receipt's credit and surcharge lines): 493,537 B.
# The speed issue is to win this back (the dialogs loaded on demand).
first_budget=${SETTLE_FIRST_LOAD_BUDGET_BR:-500000}
# Raised on purpose: from 575,000 when five admin and staff screens (API keys, webhooks and an
# endpoint, import, payments) came as chunks of 15–27 KB each; from 700,000 when email came
# with ten more (System → Email, Staff Users, Pay Links, the pay-link and receipt-link pages,
# invitation, reset and forgot-password pages): 810,574 B; from 830,000 when System → ACH Files
# came as two chunks (the files 24,948 B, a file's debits 11,732 B): 866,164 B; from 880,000
# when giving money back came: System → Refund approvals (22,045 B), System → Disputes, the
# refund dialog in Company → Payments (19,295 B with it) and the All Payments filter: 955,007 B;
# from 960,000 when voiding an ACH debit came to Company → Payments (the Void dialog asking the
# rail what it allows, the receipt saying why no refund): 966,240 B; from 972,000 when the
# seller's terms came: System → Reason codes (20,765 B), System → Payment policy (8,839 B) and
# Company → Payment policy (7,585 B), their shared chunks, and the first load's growth above:
# 1,033,352 B; from 1,040,000 with credit on account and surcharges (the first load's growth,
# the surcharge settings and the refund dialog's credit line): 1,074,202 B; from 1,085,000 when
# Reports → Aging came with its company drill-down and the time-zone setting (two lazy screens
# and the chunks they share): 1,123,281 B (the first load grew 1.1 KB, the menu's new group);
# from 1,135,000 when the dashboard (staff home, 28,810 B; its charts are drawn by the server,
# which kept 10.5 KB of drawing code out of it) and Reports → ACH authorizations (16,673 B)
# came: 1,177,914 B.
# Raised on purpose to 1,245,000 for Reports → Deposits (the report and a day's lines in one
# chunk, 38,028 B) and System → Statements (in the payment policy's chunk, about 12 KB of it):
# 1,238,555 B with them (the first load 496,548 B: the statement form on the portal).
whole_budget=${SETTLE_BUNDLE_BUDGET_BR:-1245000}
pkg=target/site/pkg
size() { stat -c %s "$1"; }
main_wasm=$(ls $pkg/settle.*.wasm 2>/dev/null | head -1)
main_js=$(ls $pkg/settle.*.js 2>/dev/null | head -1)
css=$(ls $pkg/settle.*.css 2>/dev/null | head -1)
for f in "$main_wasm" "$main_js" "$css"; do
  [ -n "$f" ] && [ -f "$f.br" ] || { echo "no release site with precompressed files in $pkg: run make release" >&2; exit 1; }
done
first=$(( $(size "$main_wasm.br") + $(size "$main_js.br") + $(size "$css.br") ))
chunks=0
for f in $pkg/*.wasm $pkg/__wasm_split*.js; do
  [ -f "$f.br" ] || continue
  [ "$f" = "$main_wasm" ] && continue
  chunks=$(( chunks + $(size "$f.br") ))
done
whole=$(( first + chunks ))
if [ "${1:-}" = "--check" ]; then
  fail=0
  if [ "$first" -gt "$first_budget" ]; then
    echo "the first load is $first B brotli (main WASM + JS + CSS), over its budget of $first_budget B" >&2
    fail=1
  fi
  if [ "$whole" -gt "$whole_budget" ]; then
    echo "the whole browser bundle is $whole B brotli, over its budget of $whole_budget B" >&2
    fail=1
  fi
  [ "$fail" = 0 ] || exit 1
  echo "browser bundle: first load $first B, whole $whole B brotli (budgets $first_budget B, $whole_budget B)"
else
  echo "wasm_main_raw_bytes=$(size "$main_wasm")"
  echo "wasm_main_br_bytes=$(size "$main_wasm.br")"
  echo "js_br_bytes=$(size "$main_js.br")"
  echo "css_br_bytes=$(size "$css.br")"
  echo "split_chunks_br_bytes=$chunks"
  echo "first_load_br_bytes=$first"
  echo "whole_app_br_bytes=$whole"
  echo "first_load_budget_br_bytes=$first_budget"
  echo "whole_app_budget_br_bytes=$whole_budget"
fi

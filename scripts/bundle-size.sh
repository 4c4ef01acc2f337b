#!/usr/bin/env bash
# The browser bundle of the release site (target/site/pkg, built by scripts/release.sh): its
# sizes as `name=value` lines (--print, for make bench), or, with --check (make test), a
# failure when the brotli-compressed total a browser downloads on first load exceeds the
# budget. The budget is today's size and a little room: raise it only on purpose.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
# Brotli bytes of WASM + JS + CSS a first visit downloads (every page loads the same bundle).
budget=${SETTLE_BUNDLE_BUDGET_BR:-480000}
pkg=target/site/pkg
size() { stat -c %s "$1"; }
one() { ls $pkg/settle*."$1" 2>/dev/null | grep -v '\.d\.ts$' | head -1; }
wasm=$(one wasm); js=$(one js); css=$(one css)
for f in "$wasm" "$js" "$css"; do
  [ -n "$f" ] && [ -f "$f.br" ] || { echo "no release site with precompressed files in $pkg: run make release" >&2; exit 1; }
done
total=$(( $(size "$wasm.br") + $(size "$js.br") + $(size "$css.br") ))
if [ "${1:-}" = "--check" ]; then
  if [ "$total" -gt "$budget" ]; then
    echo "the browser bundle is $total B brotli (WASM + JS + CSS), over its budget of $budget B" >&2
    exit 1
  fi
  echo "browser bundle: $total B brotli, within the budget of $budget B"
else
  echo "wasm_raw_bytes=$(size "$wasm")"
  echo "wasm_br_bytes=$(size "$wasm.br")"
  echo "js_br_bytes=$(size "$js.br")"
  echo "css_br_bytes=$(size "$css.br")"
  echo "first_load_br_bytes=$total"
  echo "bundle_budget_br_bytes=$budget"
fi

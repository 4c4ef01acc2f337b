#!/usr/bin/env bash
# Installs what building and testing Settle needs, when it is missing: the wasm32 target,
# cargo-leptos, the wasm-bindgen CLI matching Cargo.lock, the npm packages (Playwright,
# axe, binaryen's wasm-opt), Debian's Chromium, HAProxy and poppler-utils. Quick when
# everything is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos 0.3.10" ]; then
  echo "installing cargo-leptos 0.3.10 (takes a while, once per machine)"
  cargo install cargo-leptos --version 0.3.10 --locked --features no_downloads
fi

wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]; then
  echo "installing wasm-bindgen-cli $wbg"
  cargo install wasm-bindgen-cli --version "$wbg" --force
fi

if [ ! -f end2end/node_modules/.package-lock.json ] ||
   [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# A Debian package, when the command it provides is missing (as root; otherwise say so).
apt_install() {
  local command=$1 package=$2
  command -v "$command" >/dev/null 2>&1 && return 0
  echo "installing Debian's $package"
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package" ||
      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$package"; }
  else
    echo "$command is missing: install it (apt-get install $package) as root" >&2
    exit 1
  fi
}
apt_install /usr/bin/chromium chromium
apt_install haproxy haproxy
# The statement tests render PDFs with pdftoppm and read their text with pdftotext.
apt_install pdftotext poppler-utils

# Schemathesis (the API fuzzer `make test` runs from the OpenAPI document), in a virtualenv
# of its own under .data.
schemathesis=4.32.5
if [ "$(.data/venv/bin/st --version 2>/dev/null | awk '{print $NF}')" != "$schemathesis" ]; then
  echo "installing schemathesis $schemathesis"
  mkdir -p .data
  python3 -m venv .data/venv
  .data/venv/bin/pip install -q "schemathesis==$schemathesis"
fi

# achkit: the independent NACHA parser and validator that reads back the ACH files Settle
# writes (scripts/nacha-check.py), in the same virtualenv.
achkit=0.2.0
if [ "$(.data/venv/bin/python -c 'import importlib.metadata as m; print(m.version("achkit"))' 2>/dev/null)" != "$achkit" ]; then
  echo "installing achkit $achkit"
  .data/venv/bin/pip install -q "achkit==$achkit"
fi

# openpyxl: the independent reader of the workbooks Settle writes (the aging's XLSX export,
# read back in the browser tests), in the same virtualenv.
openpyxl=3.1.5
if [ "$(.data/venv/bin/python -c 'import importlib.metadata as m; print(m.version("openpyxl"))' 2>/dev/null)" != "$openpyxl" ]; then
  echo "installing openpyxl $openpyxl"
  .data/venv/bin/pip install -q "openpyxl==$openpyxl"
fi


#!/usr/bin/env bash
# Installs what building and testing Settle needs, when it is missing: the wasm32 target,
# cargo-leptos, the wasm-bindgen CLI matching Cargo.lock, the npm packages (Playwright,
# axe, binaryen's wasm-opt, the mail catcher), then, unless called with `build` (what
# `make run` needs), Debian's Chromium, HAProxy and poppler-utils and the Python checkers.
# Quick when everything is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

# The build tools compiled from crates.io, once per machine. cargo-leptos's own release
# profile asks for fat LTO in a single codegen unit, minutes more on two cores for a tool that
# mostly runs other programs; both are built with the release profile's defaults instead, in
# one target directory so what they share compiles once (removed afterwards).
tools_target=${CARGO_TARGET_DIR:-$root/.data/tools-target}
tool_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_TARGET_DIR=$tools_target cargo install --locked "$@"
}

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos 0.3.10" ]; then
  echo "installing cargo-leptos 0.3.10 (takes a while, once per machine)"
  tool_install cargo-leptos --version 0.3.10 --features no_downloads
fi

wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]; then
  echo "installing wasm-bindgen-cli $wbg"
  tool_install wasm-bindgen-cli --version "$wbg" --force
fi
[ -n "${CARGO_TARGET_DIR:-}" ] || rm -rf "$tools_target"

if [ ! -f end2end/node_modules/.package-lock.json ] ||
   [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# `make run`, `make release` and `make seed` need no more than the above: the browser, the load
# balancer, the PDF reader and the Python checkers are for the tests and the benchmarks.
[ "${1:-all}" = build ] && exit 0

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


#!/usr/bin/env bash
# Builds what ships: the release server ($CARGO_TARGET_DIR/release/app, with hash.txt beside
# it) and the release site (target/site: the WASM through wasm-opt, file names carrying a
# content hash, a .br and a .gz beside every file). `make release`, `make run` and
# `make test` all build and use exactly this.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
cargo leptos build --release --precompress --split

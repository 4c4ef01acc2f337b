#!/usr/bin/env bash
# Builds what ships: the release server ($CARGO_TARGET_DIR/release/app, with hash.txt beside
# it) and the release site (target/site: the WASM through wasm-opt, file names carrying a
# content hash, a .br and a .gz beside every file). `make release`, `make run` and
# `make test` all build and use exactly this.
#
# The front end's post-processing (the WASM split, wasm-bindgen, wasm-opt, compression) takes
# minutes and gives the same files for the same inputs, so it runs only when what the site is
# made from changed: a digest of those inputs is kept in the site (.inputs), with the hash
# list the server needs beside it (.hash.txt). The server is built (incrementally) every time.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$root"
site="$root/target/site"

# What the site is made from: the crates compiled to WASM (app, shared), the workspace's
# manifests, lock file and build settings, the style sheet, the assets, the tools' versions and
# the environment they read.
inputs() {
  {
    rustc -V
    cargo leptos --version
    if command -v wasm-opt >/dev/null; then wasm-opt --version; fi
    # (Where the server listens is not an input of the site: `LEPTOS_SITE_ADDR=… make run`
    # after `make test` must not build the front end again.)
    # (`|| true`: with none of them set, grep's status would end this group under `set -e`
    # and pipefail, and the digest would miss every file below.)
    env | grep -E '^(LEPTOS_|RUSTFLAGS=|CARGO_ENCODED_RUSTFLAGS=|CARGO_PROFILE_|CARGO_BUILD_)' |
      grep -vE '^LEPTOS_(SITE_ADDR|RELOAD_PORT)=' | sort || true
    local p paths=()
    for p in Cargo.toml Cargo.lock .cargo rust-toolchain.toml app/Cargo.toml app/build.rs \
      app/src shared style public; do
      [ -e "$p" ] && paths+=("$p")
    done
    find "${paths[@]}" -type f | LC_ALL=C sort | xargs -d '\n' sha256sum
  } | sha256sum | cut -d' ' -f1
}

want=$(inputs)
if [ -f "$site/.inputs" ] && [ "$(cat "$site/.inputs")" = "$want" ] && [ -f "$site/.hash.txt" ] &&
  [ -d "$site/pkg" ]; then
  echo "release site: up to date with its inputs (${want:0:12}); the front end is not rebuilt"
else
  rm -f "$site/.inputs"
  cargo leptos build --release --precompress --split --frontend-only
  cp "$target_dir/release/hash.txt" "$site/.hash.txt"
  echo "$want" >"$site/.inputs"
fi
cargo leptos build --release --precompress --split --server-only
# The hash list of this site beside the binary (a build from another clone sharing the target
# directory may have left its own).
cp "$site/.hash.txt" "$target_dir/release/hash.txt"

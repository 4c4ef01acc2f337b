# Sourced by the other scripts: the environment every cargo command shares, so that no
# build invalidates another's artefacts.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
# Leptos reads this at compile time; cargo-leptos sets it too. Same value everywhere.
export LEPTOS_OUTPUT_NAME=settle
target_dir=${CARGO_TARGET_DIR:-$root/target}
# Builds the server crate's own programs (`--bin NAME`: the benchmarks, the large book's
# loader) in release with the features the release server is built with (cargo-leptos:
# `-p app --no-default-features --features ssr`), so they link the server library the release
# build already compiled instead of compiling it again for a feature set of their own.
release_bins() {
  cargo build -q --release -p app -p server --no-default-features --features app/ssr "$@"
}
# The query macros read their offline data (.sqlx): no build needs a database, and a query
# whose data is missing or stale fails to compile (`make sqlx-prepare` writes it).
export SQLX_OFFLINE=true

# Stops the given processes: SIGTERM, then up to 15 s for each to finish what it is doing
# (the app cuts requests still open after 10 s), then SIGKILL, said, for any still running.
stop_processes() {
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 1 150); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$p" 2>/dev/null; then
      echo "process $p did not stop within 15 s of SIGTERM: killed" >&2
      kill -9 "$p" 2>/dev/null || true
    fi
    wait "$p" 2>/dev/null || true
  done
}

# Sourced by the other scripts: the environment every cargo command shares, so that no
# build invalidates another's artefacts.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
# Leptos reads this at compile time; cargo-leptos sets it too. Same value everywhere.
export LEPTOS_OUTPUT_NAME=settle
target_dir=${CARGO_TARGET_DIR:-$root/target}
# The query macros read their offline data (.sqlx): no build needs a database, and a query
# whose data is missing or stale fails to compile (`make sqlx-prepare` writes it).
export SQLX_OFFLINE=true

# Sourced by the other scripts: the environment every cargo command shares, so that no
# build invalidates another's artefacts.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:$root/end2end/node_modules/.bin:$PATH"
# Leptos reads this at compile time; cargo-leptos sets it too. Same value everywhere.
export LEPTOS_OUTPUT_NAME=settle
target_dir=${CARGO_TARGET_DIR:-$root/target}

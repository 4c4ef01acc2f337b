#!/usr/bin/env bash
# The machine API checked from outside, against a running release server (BASE, e.g.
# http://127.0.0.1:3107, on the database DB_URL): its OpenAPI document validated by an
# independent validator (Redocly CLI), then the running API fuzzed from that document by
# Schemathesis with a fresh read-write key: 0 server errors, every response conforming to
# the document. Both tools are installed by scripts/tools.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
base=${1:?usage: api-check.sh BASE_URL DB_URL}
db_url=${2:?usage: api-check.sh BASE_URL DB_URL}
out="$root/target/api-check"
rm -rf "$out" && mkdir -p "$out"

curl -fsS "$base/api/v1/openapi.json" -o "$out/openapi.json"
echo "OpenAPI document: $(wc -c <"$out/openapi.json") bytes, $(grep -o '"openapi":"[^"]*"' "$out/openapi.json")"
(cd "$root/end2end" && npx redocly lint --config "$root/scripts/redocly.yaml" "$out/openapi.json")

key=$(DATABASE_URL="$db_url" "$target_dir/release/app" api-key "Schemathesis fuzzing" read_write | tail -n 1)
# Examples per operation: enough to reach every documented answer, short enough for CI.
"$root/.data/venv/bin/st" --config-file "$root/scripts/schemathesis.toml" --no-color \
  run "$base/api/v1/openapi.json" \
  -H "Authorization: Bearer $key" \
  --checks all \
  --max-examples "${API_FUZZ_EXAMPLES:-40}" \
  --seed 7 \
  --report junit --report-dir "$out"

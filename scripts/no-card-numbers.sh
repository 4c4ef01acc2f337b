#!/usr/bin/env bash
# Fails when a full test card number (plain, or grouped with spaces or dashes) is in the
# given database (a pg_dump of it) or in the given log files. Usage:
#   scripts/no-card-numbers.sh DATABASE_URL [LOG_FILE...]
set -euo pipefail
url=$1
shift
numbers=(4242424242424242 4000000000000002 4000000000009995 4000000000000069
         4000000000000127 4000000000000119 5555555555554444 378282246310005 6011111111111117)
pattern=""
for n in "${numbers[@]}"; do
  # Any separator (space or dash) between the digits.
  grouped=$(echo "$n" | sed -E 's/([0-9])/\1[ -]?/g; s/\[ -\]\?$//')
  pattern="${pattern:+$pattern|}$grouped"
done
found=0
if pg_dump --data-only "$url" | grep -En "$pattern" | head -5; then
  echo "a full card number is stored in the database" >&2
  found=1
fi
for log in "$@"; do
  if grep -En "$pattern" "$log" | head -5; then
    echo "a full card number is in the log $log" >&2
    found=1
  fi
done
[ $found -eq 0 ] && echo "no full card number in the database or the logs"
exit $found

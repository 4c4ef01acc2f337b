#!/usr/bin/env python3
"""NACHA files read back by an independent parser (PyPI achkit): each file named is parsed and
validated (record lengths, blocking, routing checksums, entry hashes, batch and file totals);
prints one JSON line per file with its verdict and totals, and exits 1 when any file fails."""
import json
import sys

from achkit import parse, validate

failed = False
for path in sys.argv[1:]:
    with open(path, encoding="ascii") as f:
        text = f.read()
    verdict = validate(text)
    out = {"file": path, "ok": verdict["ok"], "errors": verdict["errors"]}
    if verdict["ok"]:
        parsed = parse(text)
        out["batches"] = len(parsed["batches"])
        out["entries"] = sum(len(b["entries"]) for b in parsed["batches"])
        out["total_debit"] = parsed["control"]["total_debit"]
        out["total_credit"] = parsed["control"]["total_credit"]
        out["entry_hash"] = parsed["control"]["entry_hash"]
        out["block_count"] = parsed["control"]["block_count"]
        out["traces"] = [e["trace_number"] for b in parsed["batches"] for e in b["entries"]]
    failed |= not verdict["ok"]
    print(json.dumps(out))
sys.exit(1 if failed else 0)

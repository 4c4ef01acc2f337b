#!/usr/bin/env python3
"""Writes a return or notification-of-change (NOC) file as the customers' banks send them, with
an independent library (PyPI achkit): achkit builds the file — header, batch, entries, controls
with counts, entry hash and totals, blocking — and each entry's addenda carries the return (99)
or change (98) fields laid out as the NACHA Operating Rules give them (achkit writes addenda
type 05 only; the type code is set after). The file is then validated whole by achkit.

    ach-returns.py SPEC.json OUT.ach

SPEC: {"odfi": "021000021", "rdfi": "011000015", "notices": [
        {"kind": "return" | "change", "code": "R01", "trace": "021000020000001",
         "routing": "110000000", "account": "000123456789", "cents": 1250,
         "account_type": "checking", "name": "...", "corrected": "..."}]}
"""
import json
import sys
from datetime import datetime

from achkit import AchFile, validate

spec = json.load(open(sys.argv[1]))
odfi = spec["odfi"]
# The file comes from the customers' bank (the RDFI) back to the seller's bank.
f = AchFile.create(origin_dfi=spec.get("rdfi", "011000015"), company_id="9876543210",
                   destination_routing=odfi, destination_name="SELLER BANK",
                   origin_name="CUSTOMER BANK", file_id_modifier="A",
                   creation_date=datetime(2026, 12, 9, 8, 30))
batch = f.batch("CCD", "RETURNS", "2026-12-09", company_name="NORTHWIND SUPPLY")
kinds = []
for n in spec["notices"]:
    if n["kind"] == "return":
        # 99: return reason (3), original trace (15), date of death (6), original RDFI (8),
        # addenda information (44); then the trace of the return entry.
        info = n["code"] + n["trace"] + " " * 6 + n["routing"][:8] + " " * 44
        kinds.append("99")
    else:
        # 98: change code (3), original trace (15), reserved (6), original RDFI (8), corrected
        # data (29), reserved (15); then the trace of the notification.
        info = n["code"] + n["trace"] + " " * 6 + n["routing"][:8] + n["corrected"].ljust(29) + " " * 15
        kinds.append("98")
    assert len(info) == 76, info
    # The addenda's positions 80-83: the first digits of the return entry's trace (the RDFI's).
    info += spec.get("rdfi", "011000015")[:4]
    batch.debit(n.get("name", "CUSTOMER"), n["routing"], n["account"],
                n["cents"] if n["kind"] == "return" else 0,
                account_type=n.get("account_type", "checking"), addenda=info)
lines = f.render().split("\n")
k = iter(kinds)
lines = [("7" + next(k) + l[3:]) if l.startswith("705") else l for l in lines]
text = "\n".join(lines)
verdict = validate(text)
if not verdict["ok"]:
    print(json.dumps(verdict), file=sys.stderr)
    sys.exit(1)
with open(sys.argv[2], "w", encoding="ascii") as out:
    out.write(text)

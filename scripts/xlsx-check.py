"""Reads a workbook Settle wrote with openpyxl (an independent reader) and prints what the
browser tests check, as JSON: the sheet, the frozen panes, the header, each company's row
(cells with their types and number formats), and the totals row."""
import json
import sys

from openpyxl import load_workbook

wb = load_workbook(sys.argv[1])
ws = wb.active
rows = list(ws.iter_rows())
header = [c.value for c in rows[1]]
body = []
for r in rows[2:]:
    body.append({
        "values": [c.value for c in r],
        "types": [c.data_type for c in r],
        "formats": [c.number_format for c in r],
    })
print(json.dumps({
    "sheet": ws.title,
    "title": rows[0][0].value,
    "freeze": ws.freeze_panes,
    "filter": ws.auto_filter.ref,
    "header": header,
    "rows": body[:-1],
    "totals": body[-1] if body else None,
}))

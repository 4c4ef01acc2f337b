"""Reads an ACH authorizations zip Settle wrote with Python's own zipfile and csv (independent
readers) and prints, as JSON: the zip's integrity check, its files, and each index.csv row with
whether the file it names is in the zip and the SHA-256 of that file's bytes."""
import csv
import hashlib
import io
import json
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    names = z.namelist()
    index = list(csv.DictReader(io.StringIO(z.read("index.csv").decode("utf-8"))))
    for row in index:
        row["in_zip"] = row["file"] in names
        row["file_sha256"] = hashlib.sha256(z.read(row["file"])).hexdigest() if row["in_zip"] else None
print(json.dumps({"corrupt": bad, "files": names, "index": index}))

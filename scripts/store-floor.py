#!/usr/bin/env python3
"""store-floor.py SCAN.db OUT.json: SQLite's own cost for the DNS rows a scan stored.

Copies the schema of SCAN.db (tables, indexes, the results view) into a fresh database with
the store's settings (WAL, synchronous=NORMAL, 32 MiB cache, foreign keys on), then lets the
sqlite3 shell insert the scan's domains, mx, hosts and addresses rows with one
INSERT … SELECT per table in one transaction, and measures that process's CPU time. No
binding, no statement per row, nothing of mxsurvey: a lower bound for any store that keeps
these rows with these indexes. Writes {"domains", "mx_rows", "cpu_s", "us_per_domain"}."""
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile

src, out = sys.argv[1], sys.argv[2]
con = sqlite3.connect(src)
objects = con.execute(
    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
    "AND name != 'grdb_migrations' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid"
).fetchall()
domains, mx_rows = con.execute("SELECT (SELECT count(*) FROM domains), (SELECT count(*) FROM mx)").fetchone()
con.close()

tmp = tempfile.mkdtemp(prefix="mxs-floor-")
db = os.path.join(tmp, "floor.db")
setup = sqlite3.connect(db)
setup.execute("PRAGMA journal_mode = WAL")
for _, _, sql in objects:
    setup.execute(sql)
setup.execute("ATTACH ? AS src", (src,))
setup.execute("INSERT INTO scans SELECT * FROM src.scans")
setup.commit()
setup.close()

script = f"""
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -32768;
PRAGMA wal_autocheckpoint = 10000;
PRAGMA foreign_keys = ON;
ATTACH '{src}' AS src;
BEGIN;
INSERT INTO main.domains SELECT * FROM src.domains;
INSERT INTO main.mx SELECT * FROM src.mx;
INSERT INTO main.hosts SELECT * FROM src.hosts;
INSERT INTO main.addresses SELECT * FROM src.addresses;
COMMIT;
"""
before = resource.getrusage(resource.RUSAGE_CHILDREN)
subprocess.run(["sqlite3", db], input=script, text=True, check=True, stdout=subprocess.DEVNULL)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
for name in os.listdir(tmp):
    os.remove(os.path.join(tmp, name))
os.rmdir(tmp)
result = {"domains": domains, "mx_rows": mx_rows, "cpu_s": cpu, "us_per_domain": cpu / max(domains, 1) * 1e6}
json.dump(result, open(out, "w"))
print(json.dumps(result))

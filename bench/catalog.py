#!/usr/bin/env python3
"""Benchmark: `sync --catalog` into PostgreSQL (issue 18): the catalog upsert rate.

A store of --items small items is built with the project's own `import` (the generator of
bench/store.py), a throwaway PostgreSQL server is started by scripts/postgres.sh, and then:

  first sync    every item, tombstone event and evidence line is new: items/s and rows/s
  again         nothing is new: every item is offered and none is written
  psql COPY     the baseline: the same items' rows (the JSONL lines' fields) loaded with psql's
                \\copy into a table of the same columns, the fastest plain way in

Usage: python3 bench/catalog.py [--items N] [--bin DIR] [--keep DIR]
Needs a release build (cargo build --release --locked) and Debian's PostgreSQL packages
(scripts/setup-test-deps.sh installs them).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from store import imported_store, timed, tomb_binary  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--keep", help="reuse/keep the generated input and store in this directory")
    args = ap.parse_args()
    tomb = tomb_binary(args.bin)
    work = args.keep or tempfile.mkdtemp(prefix="tombstone-catalog-bench-")
    os.makedirs(work, exist_ok=True)
    repo, source, env = imported_store(work, args.items, args.bin)
    pg = tempfile.mkdtemp(prefix="tombstone-pg-")
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "postgres.sh"), "start", pg], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        port = open(os.path.join(pg, "port")).read().strip()
        psql = ["psql", "-X", "-q", "-h", pg, "-p", port, "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
        subprocess.run(psql + ["-c", "CREATE DATABASE bench"], check=True)
        address = f"postgresql://postgres@localhost:{port}/bench?host={pg}"
        first, rss = timed([tomb, "--quiet", "sync", "--catalog", address], repo, env, rss=True)
        again, _ = timed([tomb, "--quiet", "sync", "--catalog", address], repo, env)
        rows = subprocess.run(psql + ["-d", "bench", "-A", "-t", "-c",
                                      "SELECT (SELECT count(*) FROM item) + (SELECT count(*) FROM tombstone_event)"
                                      " + (SELECT count(*) FROM evidence)"],
                              check=True, capture_output=True, text=True).stdout.strip()
        # The baseline: the items' fields as CSV, loaded with \copy.
        flat = os.path.join(work, "items.csv")
        with open(source) as f, open(flat, "w", newline="") as out:
            w = csv.writer(out)
            for line in f:
                r = json.loads(line)
                if r.get("type") == "item":
                    w.writerow([r["id"], r["path"], r["sha256"], r["size"], r["mode"], r["category"],
                                r["state"], r["archived_at"]])
        subprocess.run(psql + ["-d", "bench", "-c",
                               "CREATE TABLE plain (id text PRIMARY KEY, path text, sha256 text, size bigint, "
                               "mode text, category text, state text, archived_at timestamptz)"], check=True)
        copy, _ = timed(psql + ["-d", "bench", "-c", f"\\copy plain FROM '{flat}' WITH (FORMAT csv)"], work, env)
    finally:
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "postgres.sh"), "stop", pg], check=False)
    n = args.items
    print(f"sync --catalog, {n} items: first {first:.1f}s = {n / first:,.0f} items/s "
          f"({int(rows) / first:,.0f} rows/s with events and evidence), peak RSS {rss:.0f} MiB; "
          f"again (nothing new) {again:.1f}s")
    print(f"psql \\copy of the same {n} item rows into a plain table: {copy:.1f}s = {n / copy:,.0f} rows/s; "
          f"ratio {first / copy:.1f}x")
    if not args.keep:
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: `sync s3://…` into a local Garage object store, and the catalog upsert rate
(issue 18).

A store of --items small items is built with the project's own `import` (the generator of
bench/store.py) and exported; a throwaway Garage (scripts/garage.sh) and PostgreSQL
(scripts/postgres.sh) are started; then, each --runs times into a fresh prefix, paired and
interleaved:

  sync s3://     every Parquet file of the store is new: list, upload, check, manifest
  boto3          the baseline: the same files put with boto3 (`put_object`, one after the
                 other, as the sync does), under another fresh prefix

and once:

  again          nothing is new: the listing, and no upload
  catalog        `sync s3://… --catalog` into an empty PostgreSQL database: the files are up to
                 date, so the time over `again` is the catalog's upserts

Usage: python3 bench/s3.py [--items N] [--runs N] [--bin DIR] [--keep DIR]
Needs a release build (cargo build --release --locked), the test venv (bash scripts/test.sh
makes .venv with boto3) and Garage in ~/.cargo/bin (scripts/garage.sh builds it once).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from store import imported_store, timed, tomb_binary  # noqa: E402


def parquet_files(store):
    out = []
    for d, _, names in os.walk(os.path.join(store, "parquet")):
        out += [os.path.join(d, n) for n in names if n.endswith(".parquet")]
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--keep", help="reuse/keep the generated input and store in this directory")
    args = ap.parse_args()
    tomb = tomb_binary(args.bin)
    try:
        import boto3
    except ImportError:
        sys.exit("boto3 is missing: run with .venv/bin/python3 (bash scripts/test.sh makes it)")
    work = args.keep or tempfile.mkdtemp(prefix="tombstone-s3-bench-")
    os.makedirs(work, exist_ok=True)
    repo, _, env = imported_store(work, args.items, args.bin, HOME=work)
    timed([tomb, "--quiet", "export"], repo, env)
    files = parquet_files(os.path.join(repo, ".git", "tombstone"))
    total = sum(os.path.getsize(f) for f in files)
    s3dir = tempfile.mkdtemp(prefix="tombstone-s3-")
    pg = tempfile.mkdtemp(prefix="tombstone-pg-")
    script = os.path.join(ROOT, "scripts")
    subprocess.run(["bash", os.path.join(script, "garage.sh"), "start", s3dir], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["bash", os.path.join(script, "postgres.sh"), "start", pg], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        for line in open(os.path.join(s3dir, "env")):
            k, v = line.strip().split("=", 1)
            env[k] = v
            os.environ[k] = v
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
        ours, theirs, ratios = [], [], []
        for run in range(args.runs):
            x, _ = timed([tomb, "--quiet", "sync", f"s3://tombstone/ours-{run}"], repo, env)
            t0 = time.perf_counter()
            for f in files:
                with open(f, "rb") as body:
                    s3.put_object(Bucket="tombstone", Key=f"plain-{run}/" + os.path.relpath(f, repo), Body=body.read())
            y = time.perf_counter() - t0
            ours.append(x)
            theirs.append(y)
            ratios.append(x / y)
        again, _ = timed([tomb, "--quiet", "sync", "s3://tombstone/ours-0"], repo, env)
        # Peak RSS on a sync of its own: GNU time's fork would be inside the paired timings.
        _, rss = timed([tomb, "--quiet", "sync", f"s3://tombstone/ours-{args.runs}"], repo, env, rss=True)
        port = open(os.path.join(pg, "port")).read().strip()
        subprocess.run(["psql", "-X", "-q", "-h", pg, "-p", port, "-U", "postgres", "-c", "CREATE DATABASE bench"],
                       check=True)
        address = f"postgresql://postgres@localhost:{port}/bench?host={pg}"
        catalog, _ = timed([tomb, "--quiet", "sync", "s3://tombstone/ours-0", "--catalog", address], repo, env)
    finally:
        subprocess.run(["bash", os.path.join(script, "postgres.sh"), "stop", pg], check=False)
        subprocess.run(["bash", os.path.join(script, "garage.sh"), "stop", s3dir], check=False)
    n = args.items
    mb = total / 1e6
    o, t, r = statistics.median(ours), statistics.median(theirs), statistics.median(ratios)
    print(f"{n} items in {len(files)} Parquet files, {mb:.2f} MB; medians of {args.runs} paired runs")
    print(f"sync s3://  {o:.3f}s = {n / o:,.0f} items/s, {mb / o:.2f} MB/s, peak RSS {rss:.0f} MiB")
    print(f"boto3 put   {t:.3f}s = {n / t:,.0f} items/s, {mb / t:.2f} MB/s (the same files, one by one)")
    print(f"ratio sync/boto3 {r:.2f}x")
    print(f"again (nothing new) {again:.3f}s; with --catalog into an empty database {catalog:.3f}s: "
          f"catalog {n / max(catalog - again, 1e-9):,.0f} items/s")
    if not args.keep:
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark: restore one archived file by id to a new file, against git writing the same blob
(issue 17, point 3).

On a real history (--repo, default ../shared/corpora/ripgrep.bundle, cloned into a temporary
directory), every deletion is archived with `scan --all`; the item of median size is restored
in paired, interleaved runs:

  ours   git-archive-restore <id> --output <new file>   (verified, durable, evidence line)
  git    git cat-file -p <blob> > <new file>

and the median of the per-pair time ratios is printed (goal: at most 2.0x).
Usage: python3 bench/restore.py [--repo PATH|BUNDLE] [--runs R] [--bin DIR]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", default=os.path.join(ROOT, "..", "shared", "corpora", "ripgrep.bundle"))
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.bin, "git-archive-restore")):
        sys.exit(f"no git-archive-restore in {args.bin}: run `cargo build --release --locked` first")
    work = tempfile.mkdtemp(prefix="tombstone-restore-bench-")
    env = dict(os.environ, PATH=f"{args.bin}:{os.environ['PATH']}", GIT_CONFIG_GLOBAL="/dev/null",
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="b@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="b@example.com")
    repo = os.path.join(work, "repo")
    subprocess.run(["git", "clone", "-q", os.path.abspath(args.repo), repo], env=env, check=True)
    subprocess.run(["git-tombstone", "--quiet", "scan", "--all", "--format", "json"], cwd=repo, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    items = [json.loads(l) for l in subprocess.run(["git-tombstone", "--json", "list"], cwd=repo, env=env,
                                                    check=True, capture_output=True).stdout.splitlines()]
    items.sort(key=lambda i: i["size"])
    item = items[len(items) // 2]
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    ours, theirs, ratios = [], [], []
    for k in range(args.runs):
        a_out, b_out = os.path.join(out_dir, f"ours-{k}"), os.path.join(out_dir, f"git-{k}")
        t0 = time.perf_counter()
        subprocess.run(["git-archive-restore", item["id"], "--output", a_out], cwd=repo, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        a = time.perf_counter() - t0
        t0 = time.perf_counter()
        with open(b_out, "wb") as f:
            subprocess.run(["git", "cat-file", "-p", item["git_blob_id"]], cwd=repo, env=env, check=True, stdout=f)
        b = time.perf_counter() - t0
        ours.append(a)
        theirs.append(b)
        ratios.append(a / b)
        if open(a_out, "rb").read() != open(b_out, "rb").read():
            sys.exit("the restored bytes differ from git's")
    ratio = statistics.median(ratios)
    print(f"restore {item['path']} ({item['size']} bytes, median of {len(items)} items) by id to a new file:")
    print(f"ours {statistics.median(ours) * 1000:.1f} ms   git cat-file -p {statistics.median(theirs) * 1000:.1f} ms"
          f"   ratio {ratio:.2f}x (goal <= 2.0x, {'ok' if ratio <= 2.0 else 'OVER GOAL'})")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ratio <= 2.0 else 1)


if __name__ == "__main__":
    main()

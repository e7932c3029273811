#!/usr/bin/env python3
"""Benchmark: `git tombstone scan --all` into an empty store vs plain git (issue 4, point 3).

On a generated history of --commits commits (default 20,000) with --deletions deletions
(default 2,000), in paired, interleaved runs (the prep, emptying the store, is not timed), it
reports the median of the per-pair time ratios of

  ours   git-tombstone scan --all        (diff every commit, read, hash, compress, store, log)
  git    git log --no-renames --diff-filter=D --raw --no-abbrev
         | git cat-file --batch (the deleted blobs) | sha256sum + zstd -3 of that stream

Goal: at most 1.0x. Usage: python3 bench/scan.py [--commits N] [--deletions D] [--runs R]
[--repack-f]. The history is written by `git fast-import` and repacked reusing its deltas
(each version a delta on the one before); --repack-f recomputes them (`git repack -adf`, as
`git gc --aggressive` does: recent versions whole, older ones deltas on newer ones), which
makes the scan diff newest first.
Needs `zstd` (apt-get install zstd) for the plain-git side.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def generate(repo, commits, deletions, env):
    os.makedirs(repo)
    subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q"], cwd=repo, env=env, check=True)
    every = max(1, commits // deletions)
    live = []
    next_file = 0
    out = bytearray()

    def body(i, rev):
        lines = "".join(f"value_{j} = {i * 7 + j * rev}\n" for j in range(30))
        return f"# file {i} revision {rev}\n{lines}".encode()

    def blob(path, data):
        out.extend(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    deleted = 0
    for c in range(commits):
        out.extend(f"commit refs/heads/main\nmark :{c + 1}\n".encode())
        out.extend(f"committer Bench <bench@example.com> {1700000000 + c} +0000\n".encode())
        msg = f"commit {c}"
        out.extend(f"data {len(msg)}\n{msg}\n".encode())
        if c > 0:
            out.extend(f"from :{c}\n".encode())
        if c == 0:
            for _ in range(500):
                p = f"d{next_file % 50:02d}/f{next_file:06d}.py"
                blob(p, body(next_file, 0))
                live.append(p)
                next_file += 1
        elif c % every == 1 and deleted < deletions and live:
            victim = live.pop((c * 7919) % len(live))
            out.extend(f"D {victim}\n".encode())
            deleted += 1
            p = f"d{next_file % 50:02d}/f{next_file:06d}.py"
            blob(p, body(next_file, 0))
            live.append(p)
            next_file += 1
        else:
            p = live[(c * 104729) % len(live)]
            blob(p, body(int(p[5:11]), c))
        out.extend(b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, env=env, input=bytes(out), check=True)
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "repack", "-adq"], cwd=repo, env=env, check=True)
    return deleted


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commits", type=int, default=20_000)
    ap.add_argument("--deletions", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--keep", help="reuse/keep the generated repository in this directory")
    ap.add_argument("--repack-f", action="store_true",
                    help="recompute the deltas after generating (git repack -adf)")
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.bin, "git-tombstone")):
        sys.exit(f"no git-tombstone in {args.bin}: run `cargo build --release --locked` first")
    if shutil.which("zstd") is None:
        sys.exit("zstd is needed for the plain-git side: apt-get install zstd")

    work = args.keep or tempfile.mkdtemp(prefix="tombstone-scan-bench-")
    repo = os.path.join(work, f"history-{args.commits}-{args.deletions}" + ("-f" if args.repack_f else ""))
    store = os.path.join(work, "scan-store")
    env = dict(os.environ)
    env.update({
        "PATH": f"{args.bin}:{os.environ['PATH']}",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_TOMBSTONE_STORE": store,
    })
    if not os.path.exists(repo):
        t0 = time.perf_counter()
        n = generate(repo, args.commits, args.deletions, env)
        if args.repack_f:
            subprocess.run(["git", "repack", "-adfq"], cwd=repo, env=env, check=True)
        print(f"generated {args.commits} commits with {n} deletions in {time.perf_counter() - t0:.1f}s: {repo}")

    ours_cmd = ["git-tombstone", "--quiet", "scan", "--all", "--format", "json"]
    git_cmd = ("git log --no-renames --diff-filter=D --raw --no-abbrev --format= HEAD "
               "| awk '{ print $3 }' | git cat-file --batch "
               "| tee >(sha256sum > /dev/null) | zstd -3 -q -c > /dev/null")

    def run(cmd, shell=False):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=repo, env=env, shell=shell, executable="/bin/bash" if shell else None,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0

    def prep():
        shutil.rmtree(store, ignore_errors=True)

    prep()
    run(ours_cmd)  # warm the page cache, and check the scan works
    out = subprocess.run(["git-tombstone", "--json", "list"], cwd=repo, env=env, check=True,
                         capture_output=True).stdout
    archived = len([l for l in out.splitlines() if l.strip()])
    ours, theirs, ratios = [], [], []
    for _ in range(args.runs):
        prep()
        a = run(ours_cmd)
        b = run(git_cmd, shell=True)
        ours.append(a)
        theirs.append(b)
        ratios.append(a / b)
    ratio = statistics.median(ratios)
    packing = "deltas recomputed (repack -f)" if args.repack_f else "fast-import deltas"
    print(f"scan --all: {args.commits} commits, {archived} items archived, {packing}")
    print(f"ours {statistics.median(ours) * 1000:.0f} ms   git {statistics.median(theirs) * 1000:.0f} ms"
          f"   ratio {ratio:.2f}x (goal <= 1.0x, {'ok' if ratio <= 1.0 else 'OVER GOAL'})")
    prep()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ratio <= 1.0 else 1)


if __name__ == "__main__":
    main()

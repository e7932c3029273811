#!/usr/bin/env python3
"""Benchmark: a store of --items items (default 1,000,000), built by the project's own `import`
from a generated code_archive.jsonl of small items (issue 17, point 4).

Reports:
  import      items/s (goal >= 10,000) and peak RSS (goal <= 256 MiB, whatever the input size)
  size        bytes per item on disk, and the biggest tables and indexes (sqlite3's dbstat)
  list        `git tombstone --json list --since A --until B` over a window of --window items
              (default 1,000), against the same query in the sqlite3 CLI (`-json`): paired,
              interleaved, median of per-pair ratios (goal: under 100 ms and <= 1.5x)
  show, restore by id (to a new file), verify: wall time (verify linear in the items)

Usage: python3 bench/store.py [--items N] [--window W] [--runs R] [--bin DIR] [--keep DIR]
Needs a release build (cargo build --release --locked) and the sqlite3 CLI.
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ID_DOMAIN = b"git-tombstone/v1\0"
START = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def ts(i):
    return (START + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def tombstone_id(path, sha, commit):
    h = hashlib.sha256(ID_DOMAIN + path + b"\0" + sha.encode() + b"\0" + commit.encode())
    return "tb_" + h.hexdigest()[:20]


def generate(path, n):
    """Items archived one a minute from 2024-01-01: a window of W items is W minutes."""
    commit = "c" * 40
    removed = "d" * 40
    with open(path + ".tmp", "w") as f:
        f.write(json.dumps({"type": "header", "format": "git-tombstone/code_archive", "version": 1,
                            "store_id": "0123456789abcdef", "project": "bench", "exported_at": ts(0)}) + "\n")
        for i in range(n):
            p = f"src/m{i % 997:03d}/f{i:07d}.py"
            content = f"value_{i} = {i * 7}\n"
            sha = hashlib.sha256(content.encode()).hexdigest()
            f.write(json.dumps({
                "type": "item", "id": tombstone_id(p.encode(), sha, commit), "path": p,
                "language": "python", "mime": "text/x-python", "lines": 1, "binary": False,
                "encoding": "utf-8", "content": content, "sha256": sha, "size": len(content),
                "git_blob_id": None, "mode": "100644", "category": "code", "action": "archive",
                "reason": "deleted", "actor": "bench", "source_commit": commit,
                "removed_in_commit": removed, "archived_at": ts(i), "updated_at": ts(i),
                "removed_at": ts(i), "state": "archived", "legal_hold": False, "tags": [],
                "metadata": {}}, separators=(",", ":")) + "\n")
    os.rename(path + ".tmp", path)


def imported_store(work, n, bin_dir, **extra_env):
    """A repository in WORK whose store holds N generated items (made once with `import`, kept
    when WORK is kept); returns (repo, the JSONL source, the environment to run in)."""
    tomb = os.path.join(bin_dir, "git-tombstone")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", GIT_CONFIG_GLOBAL="/dev/null",
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="b@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="b@example.com", **extra_env)
    repo = os.path.join(work, "repo")
    source = os.path.join(work, f"items-{n}.jsonl")
    if not os.path.exists(source):
        generate(source, n)
    if not os.path.exists(os.path.join(repo, ".git", "tombstone", "archive.sqlite")):
        os.makedirs(repo, exist_ok=True)
        subprocess.run(["git", "init", "-q"], cwd=repo, env=env, check=True)
        timed([tomb, "--quiet", "import", source], repo, env)
    return repo, source, env


def tomb_binary(bin_dir):
    """The release `git-tombstone` in `bin_dir`, or exit saying how to build it."""
    tomb = os.path.join(bin_dir, "git-tombstone")
    if not os.path.exists(tomb):
        sys.exit(f"no git-tombstone in {bin_dir}: run `cargo build --release --locked` first")
    return tomb


def timed(cmd, cwd, env, shell=False, stdout=subprocess.DEVNULL, rss=False):
    """Wall seconds of `cmd`, and with `rss` its peak RSS in MiB (else None).

    The peak comes from GNU time (`/usr/bin/time -f %M`), which forks the command from its own
    small process: `os.wait4` on a child of this script reports at least this Python's own peak
    (children start with vfork, and the kernel folds the address space left at exec into
    `ru_maxrss`).
    """
    if rss:
        if not os.path.exists("/usr/bin/time"):
            sys.exit("peak RSS needs GNU time: apt-get install time")
        cmd = ["/usr/bin/time", "-f", "%M", *cmd]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, shell=shell, stdout=stdout, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd} failed: {p.stderr.decode(errors='replace')}")
    return elapsed, int(p.stderr.decode().strip().splitlines()[-1]) / 1024 if rss else None


def paired(a, b, runs, cwd, env):
    ours, theirs, ratios = [], [], []
    for _ in range(runs):
        x, _ = timed(a, cwd, env)
        y, _ = timed(b, cwd, env)
        ours.append(x)
        theirs.append(y)
        ratios.append(x / y)
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--window", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--keep", help="reuse/keep the generated input and store in this directory")
    args = ap.parse_args()
    tomb = tomb_binary(args.bin)
    if shutil.which("sqlite3") is None:
        sys.exit("the sqlite3 CLI is needed for the baseline: apt-get install sqlite3")
    work = args.keep or tempfile.mkdtemp(prefix="tombstone-store-bench-")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PATH=f"{args.bin}:{os.environ['PATH']}", GIT_CONFIG_GLOBAL="/dev/null",
               GIT_CONFIG_NOSYSTEM="1", GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="b@example.com",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="b@example.com")
    repo = os.path.join(work, "repo")
    store = os.path.join(repo, ".git", "tombstone")
    source = os.path.join(work, f"items-{args.items}.jsonl")
    if not os.path.exists(source):
        t0 = time.perf_counter()
        generate(source, args.items)
        print(f"generated {args.items} items ({os.path.getsize(source) / 2**20:.0f} MiB) in {time.perf_counter() - t0:.0f}s")
    if not os.path.exists(os.path.join(store, "archive.sqlite")):
        os.makedirs(repo, exist_ok=True)
        subprocess.run(["git", "init", "-q"], cwd=repo, env=env, check=True)
        elapsed, rss = timed([tomb, "--quiet", "import", source], repo, env, rss=True)
        rate = args.items / elapsed
        print(f"import: {args.items} items in {elapsed:.1f}s = {rate:,.0f} items/s "
              f"(goal >= 10,000: {'ok' if rate >= 10_000 else 'UNDER GOAL'}), peak RSS {rss:.0f} MiB "
              f"(goal <= 256: {'ok' if rss <= 256 else 'OVER GOAL'})")
    total = sum(os.path.getsize(os.path.join(store, f)) for f in os.listdir(store)
                if os.path.isfile(os.path.join(store, f)))
    print(f"store: {total / 2**20:.0f} MiB on disk = {total / args.items:.0f} bytes per item")
    db = os.path.join(store, "archive.sqlite")
    top = subprocess.run(["sqlite3", db, "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC LIMIT 8"],
                         capture_output=True, text=True).stdout
    for line in top.splitlines():
        name, size = line.split("|")
        print(f"  {name:32} {int(size) / args.items:7.0f} bytes per item")
    for f in sorted(os.listdir(store)):
        if f.endswith(".jsonl"):
            print(f"  {f:32} {os.path.getsize(os.path.join(store, f)) / args.items:7.0f} bytes per item")

    mid = args.items // 2
    since, until = ts(mid), ts(mid + args.window)
    ours = [tomb, "--json", "list", "--since", since, "--until", until]
    # The very query `list --since/--until` runs (src/store/items.rs), all its columns and the
    # join for the stored size, printed as JSON by the CLI.
    sql = ("SELECT i.id, i.path, i.path_text, i.sha256, i.git_blob_id, i.size, i.mode, i.language, "
           "i.mime, i.lines, i.binary, i.category, i.action, i.reason, i.actor, i.state, i.source_commit, "
           "i.removed_in_commit, i.archived_at, i.updated_at, i.legal_hold, i.tags, i.metadata, "
           "CASE WHEN b.bytes IS NULL THEN NULL ELSE b.stored_size END, i.removed_at "
           "FROM items i LEFT JOIN blobs b ON b.sha256 = i.sha256 "
           f"WHERE 1=1 AND i.archived_at >= '{since}' AND i.archived_at < '{until}' "
           "ORDER BY i.path, i.archived_at, i.id")
    theirs = ["sqlite3", "-json", db, sql]
    n = len(subprocess.run(ours, cwd=repo, env=env, capture_output=True, check=True).stdout.splitlines())
    a, b, ratio = paired(ours, theirs, args.runs, repo, env)
    print(f"list --since/--until ({n} items): ours {a * 1000:.1f} ms, sqlite3 CLI {b * 1000:.1f} ms, "
          f"ratio {ratio:.2f}x (goals: < 100 ms {'ok' if a < 0.1 else 'OVER'}, <= 1.5x {'ok' if ratio <= 1.5 else 'OVER'})")

    some_id = tombstone_id(f"src/m{mid % 997:03d}/f{mid:07d}.py".encode(),
                           hashlib.sha256(f"value_{mid} = {mid * 7}\n".encode()).hexdigest(), "c" * 40)
    show = statistics.median(timed([tomb, "--json", "show", some_id], repo, env)[0] for _ in range(args.runs))
    print(f"show <id>: {show * 1000:.1f} ms")
    times = []
    for k in range(args.runs):
        out = os.path.join(work, f"restored-{k}.py")
        if os.path.exists(out):
            os.unlink(out)
        times.append(timed([os.path.join(args.bin, "git-archive-restore"), some_id, "--output", out], repo, env)[0])
    print(f"restore by id to a new file: {statistics.median(times) * 1000:.1f} ms")
    elapsed, rss = timed([tomb, "--quiet", "verify"], repo, env, rss=True)
    print(f"verify: {elapsed:.1f}s ({args.items / elapsed:,.0f} items/s), peak RSS {rss:.0f} MiB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

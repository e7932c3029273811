#!/usr/bin/env python3
"""Benchmark: how small is archived content? (issue 6, point 4)

Corpus: real source code, the `*.rs` files of the crates in the cargo registry this project
builds against (~/.cargo/registry/src/*/, fixed by Cargo.lock), taken in sorted order up to
--files files. A repository commits them all, then a second commit deletes them all; `scan --all`
archives every deleted file, and `export` writes the Parquet `blobs` dataset.

It prints, for the same set of deleted blobs:
  git pack      git pack-objects --stdout of the deleted blob ids (git's delta-compressed form;
                default window/depth, as `git gc` uses)
  SQLite        archive.sqlite after a checkpoint (the whole file: pages, indexes, metadata)
  Parquet       the blobs dataset after `export` (zstd level 9) and after `compact --level 19`

Goals: Parquet blobs <= git pack; SQLite <= 1.2x git pack.
Usage: python3 bench/size.py [--files N] [--policy-level L]
"""
import argparse
import glob
import os
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def corpus(limit):
    base = glob.glob(os.path.expanduser("~/.cargo/registry/src/*/"))
    if not base:
        sys.exit("no cargo registry sources: run `cargo build` first")
    files = []
    for crate in sorted(os.listdir(base[0])):
        for dirpath, dirnames, names in os.walk(os.path.join(base[0], crate)):
            dirnames.sort()
            for n in sorted(names):
                if n.endswith(".rs"):
                    p = os.path.join(dirpath, n)
                    if os.path.getsize(p) <= 512 * 1024:
                        files.append((os.path.relpath(p, base[0]), p))
        if len(files) >= limit:
            break
    return files[:limit]


def run(cmd, cwd, env, **kw):
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--policy-level", type=int, default=None, help="store zstd level (.tombstone.toml)")
    args = ap.parse_args()
    run(["cargo", "build", "--release", "--locked", "--quiet"], ROOT, os.environ)
    tomb = os.path.join(ROOT, "target", "release", "git-tombstone")
    env = dict(os.environ, GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="B", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="B",
               GIT_COMMITTER_EMAIL="b@x", GIT_TOMBSTONE_SKIP="1")
    files = corpus(args.files)
    with tempfile.TemporaryDirectory() as tmp:
        repo = os.path.join(tmp, "repo")
        os.makedirs(repo)
        run(["git", "-c", "init.defaultBranch=main", "init", "-q"], repo, env)
        stream = bytearray()
        stream += b"commit refs/heads/main\nmark :1\ncommitter B <b@x> 1700000000 +0000\ndata 3\nadd\n"
        raw = 0
        for rel, p in files:
            data = open(p, "rb").read()
            raw += len(data)
            stream += f"M 100644 inline {rel}\ndata {len(data)}\n".encode() + data + b"\n"
        stream += b"commit refs/heads/main\nmark :2\ncommitter B <b@x> 1700000100 +0000\ndata 3\nrm\nfrom :1\n"
        for rel, _ in files:
            stream += f"D {rel}\n".encode()
        run(["git", "fast-import", "--quiet"], repo, env, input=bytes(stream))
        run(["git", "reset", "-q", "--hard", "main"], repo, env)
        if args.policy_level:
            open(os.path.join(repo, ".tombstone.toml"), "w").write(
                f"version = 1\n[store]\ncompression = \"zstd\"\nlevel = {args.policy_level}\n")
        ids = run(["git", "ls-tree", "-r", "--object-only", "HEAD~1"], repo, env,
                  capture_output=True).stdout
        distinct = len(set(ids.split()))
        pack = len(run(["git", "pack-objects", "--stdout", "-q"], repo, env, input=ids,
                       capture_output=True).stdout)
        pack_aggr = len(run(["git", "pack-objects", "--stdout", "-q", "--window=250", "--depth=50"],
                            repo, env, input=ids, capture_output=True).stdout)
        run([tomb, "scan", "--all", "-q"], repo, env, capture_output=True)
        store = os.path.join(repo, ".git", "tombstone")
        db = os.path.join(store, "archive.sqlite")
        con = sqlite3.connect(db)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        content = con.execute("SELECT COALESCE(SUM(stored_size), 0) FROM blobs").fetchone()[0]
        con.close()
        sqlite_size = os.path.getsize(db) + os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else os.path.getsize(db)

        def parquet_blobs():
            return sum(os.path.getsize(f) for f in glob.glob(os.path.join(store, "parquet", "blobs", "**", "*.parquet"), recursive=True))

        run([tomb, "export", "-q"], repo, env, capture_output=True)
        pq9 = parquet_blobs()
        run([tomb, "compact", "--level", "19", "--threshold", str(1 << 40), "-q"], repo, env, capture_output=True)
        # A single delta file is only rewritten to raise its level: compact treats level > 3 so.
        pq19 = parquet_blobs()

        def row(name, size, note=""):
            print(f"{name:<34} {size:>12,} B  {size / pack:5.2f}x pack  {note}")

        print(f"corpus: {len(files)} deleted .rs files ({distinct} distinct blobs), {raw:,} B raw")
        row("git pack-objects (default)", pack)
        row("git pack-objects --window=250", pack_aggr)
        row("SQLite archive.sqlite (whole file)", sqlite_size, "goal <= 1.20x")
        row("SQLite stored content only", content)
        row("Parquet blobs, export (zstd 9)", pq9, "goal <= 1.00x")
        row("Parquet blobs, compact (zstd 19)", pq19, "goal <= 1.00x")


if __name__ == "__main__":
    main()

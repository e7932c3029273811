#!/usr/bin/env python3
"""Peak memory of git-tombstone on hostile and large inputs, from `/usr/bin/time -v`.

Cases (each in a fresh temporary repository, git isolated from the machine):
  import-bomb-gz     a .jsonl.gz of zeros (--bomb-mib MiB decompressed): must be refused
                     (exit 1) with peak RSS under 256 MiB
  import-valid       a valid export of --items small items, imported into a new store
  capture-large      `archive` of one --large-mib MiB file (max_file_size raised)
  refuse-large       `archive` of the same file under the default 50 MiB max_file_size

Usage: python3 bench/memory.py [--bin target/release/git-tombstone] [--bomb-mib 1024]
       [--large-mib 200] [--items 20000]
Prints one line per case: name, exit code, peak RSS in MiB, wall seconds.
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import tempfile
import time

ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": "/nonexistent",
    "LANG": "C",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(repo, *args, **kw):
    subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True, **kw)


def new_repo(base, name):
    repo = os.path.join(base, name)
    os.makedirs(repo)
    git(repo, "-c", "init.defaultBranch=main", "init", "-q")
    with open(os.path.join(repo, "README.md"), "w") as f:
        f.write("bench\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def measured(repo, cmd):
    start = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=repo, env=ENV, capture_output=True, text=True)
    wall = time.monotonic() - start
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    rss = int(m.group(1)) / 1024 if m else float("nan")
    return p.returncode, rss, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/git-tombstone")
    ap.add_argument("--bomb-mib", type=int, default=1024)
    ap.add_argument("--large-mib", type=int, default=200)
    ap.add_argument("--items", type=int, default=20000)
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    with tempfile.TemporaryDirectory() as base:
        rows = []
        # A decompression bomb: zeros, no newline.
        repo = new_repo(base, "bomb")
        bomb = os.path.join(base, "bomb.jsonl.gz")
        with gzip.open(bomb, "wb", compresslevel=9) as f:
            block = b"\0" * (1 << 20)
            for _ in range(a.bomb_mib):
                f.write(block)
        rows.append(("import-bomb-gz", *measured(repo, [binary, "import", bomb]), os.path.getsize(bomb)))
        # A valid export of many small items.
        repo = new_repo(base, "valid")
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=ENV, capture_output=True, text=True).stdout.strip()
        import hashlib
        src = os.path.join(base, "valid.jsonl.gz")
        with gzip.open(src, "wt") as f:
            f.write(json.dumps({"type": "header", "format": "git-tombstone/code_archive", "version": 1,
                                "store_id": "0" * 16, "project": None, "exported_at": "2026-01-01T00:00:00Z"}) + "\n")
            for i in range(a.items):
                content = f"item {i}\n".encode()
                sha = hashlib.sha256(content).hexdigest()
                path = f"src/m{i // 100}/f{i}.py"
                digest = hashlib.sha256(b"git-tombstone/v1\0" + path.encode() + b"\0" + sha.encode() + b"\0" + commit.encode()).hexdigest()
                f.write(json.dumps({
                    "type": "item", "id": "tb_" + digest[:20], "path": path, "language": "python",
                    "mime": "text/x-python", "lines": 1, "binary": False, "encoding": "utf-8",
                    "content": content.decode(), "sha256": sha, "size": len(content), "git_blob_id": None,
                    "mode": "100644", "category": "code", "action": "archive", "reason": "deleted",
                    "actor": "bench", "source_commit": commit, "removed_in_commit": None,
                    "archived_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
                    "removed_at": None, "state": "pending", "legal_hold": False, "tags": [], "metadata": {},
                }) + "\n")
        rows.append(("import-valid", *measured(repo, [binary, "import", src]), os.path.getsize(src)))
        # One large file, captured and refused.
        repo = new_repo(base, "large")
        big = os.path.join(repo, "big.bin")
        with open(big, "wb") as f:
            chunk = os.urandom(1 << 16)
            for i in range(a.large_mib * 16):
                f.write(chunk if i % 2 else b"\0" * (1 << 16))
        git(repo, "add", "big.bin")
        git(repo, "commit", "-q", "-m", "big")
        rows.append(("refuse-large", *measured(repo, [binary, "archive", "big.bin"]), a.large_mib << 20))
        with open(os.path.join(repo, ".tombstone.toml"), "w") as f:
            f.write(f"max_file_size = {(a.large_mib + 1) << 20}\n")
        rows.append(("capture-large", *measured(repo, [binary, "archive", "big.bin"]), a.large_mib << 20))
        print(f"{'case':<16} {'exit':>4} {'peak RSS MiB':>13} {'wall s':>7} {'input bytes':>12}")
        for name, code, rss, wall, size in rows:
            print(f"{name:<16} {code:>4} {rss:>13.1f} {wall:>7.2f} {size:>12}")


if __name__ == "__main__":
    main()

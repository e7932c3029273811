#!/usr/bin/env python3
"""Benchmark: the pre-commit hook against plain git doing the same work (issue 3, point 8).

On a generated repository of --files tracked files (default 100,000), in paired, interleaved
runs (A B A B ...; the prep between runs is not timed), it reports the median of the per-pair
time ratios for:

  nothing deleted    git-tombstone hook pre-commit
                     vs  git diff --cached --raw --no-renames -z
  N staged deletions git-tombstone hook pre-commit  (capture, compress, store, stub, stage)
                     vs  git diff --cached --raw --no-renames -z --diff-filter=D
                         | git cat-file --batch  (of the deleted blobs)

Goals: at most 1.2x with nothing deleted; at most 2.5x with 100 and 1,000 deletions.
Each run starts from an empty, already created store (as every commit after the first does);
the one-time cost of creating the store is printed separately.
Usage: python3 bench/pre_commit.py [--files N] [--runs R] [--bin DIR]
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


def env_for(bin_dir, store):
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        "GIT_TOMBSTONE_STORE": store,
    }
    return env


def run(cmd, cwd, env, shell=False, stdin=None):
    subprocess.run(cmd, cwd=cwd, env=env, shell=shell, check=True, stdin=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def timed(cmd, cwd, env, shell=False):
    t0 = time.perf_counter()
    run(cmd, cwd, env, shell=shell)
    return time.perf_counter() - t0


def paths(n):
    # 100 top directories x 10 subdirectories x 100 files per 100,000.
    out = []
    for i in range(n):
        out.append(f"d{i // 1000:03d}/s{(i // 100) % 10}/f{i % 100:03d}.py")
    return out


def generate(repo, n, env):
    os.makedirs(repo)
    run(["git", "-c", "init.defaultBranch=main", "init", "-q"], repo, env)
    stream = bytearray()
    stream += b"commit refs/heads/main\nmark :1\ncommitter Bench <bench@example.com> 1767225600 +0000\n"
    stream += b"data 8\ngenerate\n"
    for i, p in enumerate(paths(n)):
        body = (f"# generated file {i}\n" + "".join(f"value_{j} = {i * 31 + j}\n" for j in range(12))).encode()
        stream += f"M 100644 inline {p}\ndata {len(body)}\n".encode() + body + b"\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, env=env, input=bytes(stream), check=True)
    run(["git", "reset", "-q", "--hard", "main"], repo, env)
    run(["git", "write-tree"], repo, env)  # a valid cache-tree, as after any commit


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--keep", help="reuse/keep the generated repository in this directory")
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.bin, "git-tombstone")):
        sys.exit(f"no git-tombstone in {args.bin}: run `cargo build --release --locked` first")

    work = args.keep or tempfile.mkdtemp(prefix="tombstone-bench-")
    repo = os.path.join(work, f"repo-{args.files}")
    store = os.path.join(work, "store")
    env = env_for(args.bin, store)
    if not os.path.exists(repo):
        t0 = time.perf_counter()
        generate(repo, args.files, env)
        print(f"generated {args.files} files in {time.perf_counter() - t0:.1f}s: {repo}")
    index = os.path.join(repo, ".git", "index")
    pristine = os.path.join(work, "index.pristine")
    shutil.copyfile(index, pristine)

    all_paths = paths(args.files)
    hook = ["git-tombstone", "hook", "pre-commit"]
    # An empty, migrated store to start each run from (creating it is a one-time cost).
    template = os.path.join(work, "store-template")
    shutil.rmtree(template, ignore_errors=True)
    t0 = time.perf_counter()
    run(["git-tombstone", "--store", template, "export", "--quiet"], repo, env)
    print(f"creating an empty store (one time): {(time.perf_counter() - t0) * 1000:.1f} ms")
    results = []

    def scenario(name, deleted, git_cmd, goal):
        # The index with `deleted` removed (as `git rm` leaves it), made once.
        shutil.copyfile(pristine, index)
        if deleted:
            chunk = 500
            for i in range(0, len(deleted), chunk):
                run(["git", "rm", "-q", "--cached", "--"] + deleted[i:i + chunk], repo, env)
        staged = os.path.join(work, f"index.{len(deleted)}")
        shutil.copyfile(index, staged)

        def prep():
            shutil.copyfile(staged, index)
            shutil.rmtree(store, ignore_errors=True)
            # The store exists, empty and migrated, as on every commit after the first.
            shutil.copytree(template, store)
            for p in deleted:  # the work tree as after `git rm`: the files are gone
                try:
                    os.remove(os.path.join(repo, p))
                except FileNotFoundError:
                    pass

        ours, theirs, ratios = [], [], []
        prep()
        timed(hook, repo, env)  # warm the page cache for both sides
        for _ in range(args.runs):
            prep()
            a = timed(hook, repo, env)
            prep()
            b = timed(git_cmd, repo, env, shell=isinstance(git_cmd, str))
            ours.append(a)
            theirs.append(b)
            ratios.append(a / b)
        ratio = statistics.median(ratios)
        verdict = "ok" if ratio <= goal else "OVER GOAL"
        line = (f"{name:<22} ours {statistics.median(ours) * 1000:8.1f} ms   git {statistics.median(theirs) * 1000:8.1f} ms"
                f"   ratio {ratio:5.2f}x (goal <= {goal}x, {verdict})")
        print(line, flush=True)
        results.append((name, ratio, goal))

    scenario("nothing deleted", [], ["git", "diff", "--cached", "--raw", "--no-renames", "-z"], 1.2)
    pipeline = ("git diff --cached --raw --no-renames -z --diff-filter=D | tr '\\0' '\\n' "
                "| awk 'NR % 2 == 1 { print $3 }' | git cat-file --batch > /dev/null")
    step = max(1, args.files // 1000)
    for n in (100, 1000):
        deleted = all_paths[::step][:n] if n <= len(all_paths) else all_paths
        scenario(f"{n} deletions", deleted, pipeline, 2.5)
    # Leave the repository as generated.
    shutil.copyfile(pristine, index)
    run(["git", "checkout", "-q", "--", "."], repo, env)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(r <= g for _, r, g in results) else 1)


if __name__ == "__main__":
    main()

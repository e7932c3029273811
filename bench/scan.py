#!/usr/bin/env python3
"""Benchmark: `git tombstone scan --all` into an empty store vs plain git (issues 4 and 17).

On a real history (--repo PATH or a bundle, e.g. ../shared/corpora/ripgrep.bundle), a
real-shape history made from one (--repo X --scale K: the real history replayed K times, each
time under its own top directory and chained after the previous, then repacked as GitHub packs,
`git repack -adf --depth=50 --window=250`), or a synthetic one (--commits/--deletions), in
paired, interleaved runs (the prep, emptying the store, is not timed), it reports the median of
the per-pair time ratios of

  ours   git-tombstone scan --all        (diff every commit, read, hash, compress, store, log)
  git    git log --no-renames --diff-filter=D --raw --no-abbrev
         | git cat-file --batch (the deleted blobs) | sha256sum + zstd -3 of that stream

Goal: at most 1.0x, quiet and with the other core busy (--busy runs `yes > /dev/null` beside
it), and a peak RSS no higher than `git log --raw`'s on the same history (printed too).
Usage: python3 bench/scan.py [--repo PATH|BUNDLE [--scale K]] [--commits N] [--deletions D]
[--runs R] [--repack-f] [--busy]. The history is written by `git fast-import` and repacked reusing its deltas
(each version a delta on the one before); --repack-f recomputes them (`git repack -adf`, as
`git gc --aggressive` does: recent versions whole, older ones deltas on newer ones), which
makes the scan diff newest first.
Needs `zstd` (apt-get install zstd) for the plain-git side.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from store import timed, tomb_binary  # noqa: E402


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


def git(repo, env, *args, **kw):
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, **kw)


def from_real(source, repo, scale, env):
    """Clone a real history (a path or a bundle); with scale > 1, replay it `scale` times."""
    if scale <= 1:
        subprocess.run(["git", "clone", "-q", "--no-checkout", source, repo], env=env, check=True)
        head = git(repo, env, "rev-parse", "HEAD", capture_output=True).stdout.decode().strip()
        git(repo, env, "update-ref", "refs/heads/bench", head)
        return
    src = repo + ".src"
    if not os.path.exists(src):
        subprocess.run(["git", "clone", "-q", "--no-checkout", source, src], env=env, check=True)
    stream = git(src, env, "fast-export", "--no-data", "--reencode=yes", "--signed-tags=strip",
                 "HEAD", capture_output=True).stdout
    commits = parse_commits(stream)
    os.makedirs(repo)
    git(repo, env, "-c", "init.defaultBranch=main", "init", "-q", "--bare")
    # The source's objects first: the replayed commits name its blobs by id (--no-data), so each
    # replay adds trees and commits, as a monorepo holding K copies of the project would.
    subprocess.run(f"git -C {src} rev-list --objects HEAD | git -C {src} pack-objects -q --stdout"
                   f" | git -C {repo} unpack-objects -q", shell=True, check=True, env=env)
    out = bytearray()
    tip = None
    for rep in range(scale):
        prefix = f"r{rep:03d}/".encode()
        base = rep * 10_000_000
        for c in commits:
            out.extend(b"commit refs/heads/bench\n")
            out.extend(b"mark :%d\n" % (base + c["mark"]))
            for h in c["headers"]:
                out.extend(h + b"\n")
            out.extend(b"data %d\n" % len(c["message"]) + c["message"] + b"\n")
            parents = [base + p for p in c["parents"]]
            if not parents and tip is not None:
                parents = [tip]  # chain this replay's root after the previous replay's tip
            if parents:
                out.extend(b"from :%d\n" % parents[0])
            for p in parents[1:]:
                out.extend(b"merge :%d\n" % p)
            for op in c["ops"]:
                if op.startswith(b"M "):
                    mode, blob, path = op[2:].split(b" ", 2)
                    out.extend(b"M " + mode + b" " + blob + b" " + quote_path(prefix, path) + b"\n")
                elif op.startswith(b"D "):
                    out.extend(b"D " + quote_path(prefix, op[2:]) + b"\n")
            out.extend(b"\n")
        tip = base + commits[-1]["mark"]
    git(repo, env, "fast-import", "--quiet", "--force", input=bytes(out))
    git(repo, env, "repack", "-adfq", "--depth=50", "--window=250")


def quote_path(prefix, path):
    if path.startswith(b'"'):
        return b'"' + prefix + path[1:]
    return prefix + path


def parse_commits(stream):
    """The commits of a `git fast-export --no-data` stream, in order."""
    commits, cur, i, n = [], None, 0, len(stream)
    while i < n:
        nl = stream.find(b"\n", i)
        nl = n if nl < 0 else nl
        line = stream[i:nl]
        i = nl + 1
        if line.startswith(b"data "):
            size = int(line[5:])
            payload = stream[i:i + size]
            i += size
            if cur is not None and cur["message"] is None:
                cur["message"] = payload
            continue
        if line.startswith(b"commit "):
            cur = {"mark": None, "headers": [], "message": None, "parents": [], "ops": []}
            commits.append(cur)
        elif cur is None:
            continue
        elif line.startswith(b"mark :"):
            cur["mark"] = int(line[6:])
        elif line.startswith((b"author ", b"committer ", b"encoding ")):
            cur["headers"].append(line)
        elif line.startswith((b"from :", b"merge :")):
            cur["parents"].append(int(line.split(b":")[1]))
        elif line.startswith((b"M ", b"D ")):
            cur["ops"].append(line)
        elif line.startswith((b"reset ", b"tag ", b"feature ")):
            cur = None
    return commits


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--commits", type=int, default=20_000)
    ap.add_argument("--deletions", type=int, default=2_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--keep", help="reuse/keep the generated repository in this directory")
    ap.add_argument("--repack-f", action="store_true",
                    help="recompute the deltas after generating (git repack -adf)")
    ap.add_argument("--repo", help="a real history: a repository path or a bundle")
    ap.add_argument("--scale", type=int, default=1,
                    help="with --repo: replay the history this many times (a real-shape history K times larger)")
    ap.add_argument("--busy", action="store_true", help="keep the other core busy (yes > /dev/null) while timing")
    args = ap.parse_args()
    tomb_binary(args.bin)
    if shutil.which("zstd") is None:
        sys.exit("zstd is needed for the plain-git side: apt-get install zstd")

    work = args.keep or tempfile.mkdtemp(prefix="tombstone-scan-bench-")
    if args.repo:
        name = os.path.basename(args.repo.rstrip("/")).removesuffix(".bundle").removesuffix(".git")
        repo = os.path.join(work, f"real-{name}-x{args.scale}")
    else:
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
    if args.repo and not os.path.exists(repo):
        t0 = time.perf_counter()
        from_real(os.path.abspath(args.repo), repo, args.scale, env)
        print(f"prepared {args.repo} x{args.scale} in {time.perf_counter() - t0:.1f}s: {repo}")
    if not os.path.exists(repo):
        t0 = time.perf_counter()
        n = generate(repo, args.commits, args.deletions, env)
        if args.repack_f:
            subprocess.run(["git", "repack", "-adfq"], cwd=repo, env=env, check=True)
        print(f"generated {args.commits} commits with {n} deletions in {time.perf_counter() - t0:.1f}s: {repo}")

    tip = "bench" if args.repo else "HEAD"
    ours_cmd = ["git-tombstone", "--quiet", "scan", tip, "--format", "json"]
    if args.repo:
        # A bare or no-checkout clone has no work tree: scan it from a linked worktree.
        wt = repo + ".wt"
        if not os.path.exists(wt):
            git(repo, env, "worktree", "add", "-q", "--detach", "--no-checkout", wt, tip)
        scan_dir = wt
    else:
        scan_dir = repo
    git_cmd = (f"git log --no-renames --diff-filter=D --raw --no-abbrev --format= {tip} "
               "| awk '{ print $3 }' | git cat-file --batch "
               "| tee >(sha256sum > /dev/null) | zstd -3 -q -c > /dev/null")

    def run(cmd, shell=False, cwd=None):
        """Wall time and CPU time (user + system, of every process it waited for) of `cmd`."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd or repo, env=env, shell=shell, executable="/bin/bash" if shell else None,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    def prep():
        shutil.rmtree(store, ignore_errors=True)

    prep()
    run(ours_cmd, cwd=scan_dir)  # warm the page cache, and check the scan works
    out = subprocess.run(["git-tombstone", "--json", "list"], cwd=scan_dir, env=env, check=True,
                         capture_output=True).stdout
    archived = len([l for l in out.splitlines() if l.strip()])
    commits = git(repo, env, "rev-list", "--count", tip, capture_output=True).stdout.decode().strip()
    busy = subprocess.Popen("yes > /dev/null", shell=True) if args.busy else None
    try:
        ours, theirs, ratios, cpu_ours, cpu_theirs = [], [], [], [], []
        for _ in range(args.runs):
            prep()
            a, a_cpu = run(ours_cmd, cwd=scan_dir)
            b, b_cpu = run(git_cmd, shell=True)
            ours.append(a)
            theirs.append(b)
            ratios.append(a / b)
            cpu_ours.append(a_cpu)
            cpu_theirs.append(b_cpu)
    finally:
        if busy:
            busy.kill()
            subprocess.run("pkill -x yes", shell=True)
    prep()
    _, rss_ours = timed(ours_cmd, scan_dir, env, rss=True)
    _, rss_log = timed(["git", "log", "--no-renames", "--diff-filter=D", "--raw", "--no-abbrev",
                            "--format=", tip], repo, env, rss=True)
    ratio = statistics.median(ratios)
    if args.repo:
        packing = f"real history {args.repo}" + (f" replayed x{args.scale}, repack -adf --depth=50 --window=250" if args.scale > 1 else " as cloned")
    else:
        packing = "generated, " + ("deltas recomputed (repack -f)" if args.repack_f else "fast-import deltas")
    print(f"scan: {commits} commits, {archived} items archived, {packing}{', other core busy' if args.busy else ''}")
    print(f"ours {statistics.median(ours) * 1000:.0f} ms   git {statistics.median(theirs) * 1000:.0f} ms"
          f"   ratio {ratio:.2f}x (goal <= 1.0x, {'ok' if ratio <= 1.0 else 'OVER GOAL'})")
    # CPU time shows what the wall time cannot: with both cores taken (--busy, or a scan whose
    # threads already fill them), the wall time follows the CPU time.
    print(f"CPU (user + system): ours {statistics.median(cpu_ours) * 1000:.0f} ms   "
          f"git {statistics.median(cpu_theirs) * 1000:.0f} ms   "
          f"ratio {statistics.median(c / g for c, g in zip(cpu_ours, cpu_theirs) if g > 0):.2f}x")
    print(f"peak RSS: ours {rss_ours:.1f} MiB   git log {rss_log:.1f} MiB"
          f"   ({'ok' if rss_ours <= rss_log else 'OVER GOAL'})")
    prep()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ratio <= 1.0 else 1)


if __name__ == "__main__":
    main()

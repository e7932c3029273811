#!/usr/bin/env bash
# Finding 19 of the security review: the failpoints (GIT_TOMBSTONE_FAILPOINT) and the clock
# override (GIT_TOMBSTONE_NOW) exist only in builds with the `testing` feature, which only the
# test suite enables. This builds the binary as users get it (no `testing`) and shows both
# variables are ignored: the abort does not happen and the evidence line is not backdated.
# Usage: scripts/check-release-guards.sh   (run from anywhere; uses the project's target dir)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet --bin git-tombstone
bin="$PWD/target/debug/git-tombstone"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME="$work"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
export GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z
git init -q -b main "$work/repo"
cd "$work/repo"
printf 'a\n' > a.txt
git add a.txt
git commit -q -m a
status=0
GIT_TOMBSTONE_FAILPOINT=archive:after-store GIT_TOMBSTONE_NOW=2001-02-03T04:05:06Z \
  "$bin" archive a.txt >/dev/null 2>"$work/err" || status=$?
if [ "$status" -ne 0 ]; then
  echo "check-release-guards: archive exited $status under GIT_TOMBSTONE_FAILPOINT in a build without 'testing'" >&2
  cat "$work/err" >&2
  exit 1
fi
if [ ! -s .git/tombstone/evidence.jsonl ]; then
  echo "check-release-guards: archive wrote no evidence line" >&2
  exit 1
fi
if grep -q '2001-02-03' .git/tombstone/evidence.jsonl; then
  echo "check-release-guards: GIT_TOMBSTONE_NOW backdated evidence in a build without 'testing'" >&2
  exit 1
fi
# The positive control is tests/cli/crash.rs: with `testing` (the test build) the same
# failpoint aborts the process.
echo "check-release-guards: failpoints and the clock override are inert without the 'testing' feature"

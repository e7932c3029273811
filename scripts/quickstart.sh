#!/usr/bin/env bash
# Builds git-tombstone and runs its main job end to end on the embedded SQLite store, in a
# throwaway repository: archive a file (its tombstone staged), commit, bind, list, restore,
# verify. Uses cargo's real target directory (CARGO_TARGET_DIR or config), and plain text when
# stdout is not a terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release --bins
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target/release"
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export PATH="$bin:$PATH" GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

cd "$demo"
git -c init.defaultBranch=main init -q .
mkdir -p src
printf 'def zendesk_v1():\n    return "legacy"\n' > src/zendesk_v1.py
git add -A && git commit -qm "initial"
step git tombstone init
step git tombstone archive src/zendesk_v1.py --reason retired --tag legacy --metadata ticket=OPS-1234
step cat src/zendesk_v1.py.tombstone
step git commit -qm "retire zendesk_v1"
step git tombstone bind
step git tombstone list
step git archive-restore src/zendesk_v1.py
step cat src/zendesk_v1.py
step git tombstone verify
step git tombstone evidence digest 1
printf '\nstore: %s (deleted on exit)\n' "$demo/.git/tombstone"

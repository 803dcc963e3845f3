#!/usr/bin/env bash
# `cargo +nightly fuzz <command>` with one target's build configuration:
#
#   fuzz/cargo-fuzz.sh <command> <target> [more cargo-fuzz arguments...]
#   e.g. fuzz/cargo-fuzz.sh run flatten artifacts/flatten/crash-...
#        fuzz/cargo-fuzz.sh tmin flatten artifacts/flatten/crash-...
#
# It runs in fuzz/, so paths are relative to fuzz/. A RUSTC_WRAPPER already
# set (sccache, say) still runs, inside fuzz/rustc-uncovered.sh.
#
# Every target: no sanitizer. The workspace forbids unsafe code, so
# AddressSanitizer finds nothing safe Rust's own checks miss, and halves the
# speed. Debug assertions and overflow checks stay on.
#
# `flatten` is configured for speed, in its own target dir
# (fuzz/README.md#the-flatten-build says what each choice is worth):
# - no compare tracing: its input is structure-aware (choices drawn by
#   `int_in_range`, names from a pool and the dictionary), and the tracing
#   did not reach more coverage;
# - coverage only for the code under test: the input generator
#   (segment-model, arbitrary) and the oracle (talon-mapper-oracles and the
#   reference model it checks by, talon-reference) are
#   built without coverage counters (fuzz/rustc-uncovered.sh), so libFuzzer
#   neither steers by them nor pays for them on every input;
# - no `ub_checks`: those are the standard library's checks of its own
#   unsafe code, which is not under test here (the workspace has none).
# Changing this list needs a clean build of the target dir (cargo does not
# track FUZZ_UNCOVERED): rm -rf fuzz/target/flatten.
set -euo pipefail
cd "$(dirname "$0")"
command=${1:?usage: fuzz/cargo-fuzz.sh <command> <target> [arguments...]}
target=${2:?usage: fuzz/cargo-fuzz.sh <command> <target> [arguments...]}
shift 2
flags=(--sanitizer none)
case $target in
  flatten)
    flags+=(--no-trace-compares --target-dir target/flatten)
    if [ "${RUSTC_WRAPPER:-}" != "$PWD/rustc-uncovered.sh" ]; then
      export FUZZ_RUSTC_WRAPPER=${RUSTC_WRAPPER:-}
    fi
    export RUSTC_WRAPPER=$PWD/rustc-uncovered.sh
    export FUZZ_UNCOVERED="segment_model arbitrary talon_mapper_oracles talon_reference"
    export RUSTFLAGS="${RUSTFLAGS:-} -Zub-checks=no"
    ;;
esac
exec cargo +nightly fuzz "$command" "${flags[@]}" "$target" "$@"

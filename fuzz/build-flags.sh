#!/usr/bin/env bash
# Prints the cargo-fuzz build flags of one target (fuzz/build-flags.sh <target>).
#
# Every target: no sanitizer. The workspace forbids unsafe code, so
# AddressSanitizer finds nothing safe Rust's own checks miss, and halves the
# speed; debug assertions and overflow checks stay on.
#
# `flatten` also drops compare tracing, in its own target dir: its input is
# structure-aware (choices drawn by `int_in_range`, names from a pool and the
# dictionary), and in 30 s from the same seeds it reached the same coverage
# with tracing as without (cov 1041 and 1039), while running 1.5 times as
# many inputs without it. The raw-bytes targets keep it: it is how libFuzzer
# learns the JSON and HTTP tokens their parsers compare against.
set -euo pipefail
case ${1:?usage: fuzz/build-flags.sh <target>} in
  flatten) echo "--sanitizer none --no-trace-compares --target-dir target/no-trace-compares" ;;
  *) echo "--sanitizer none" ;;
esac

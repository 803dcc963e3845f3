#!/usr/bin/env bash
# A rustc wrapper (RUSTC_WRAPPER) for fuzz builds: the crates named in
# FUZZ_UNCOVERED (crate names, space-separated) are compiled without
# coverage counters. cargo-fuzz turns SanitizerCoverage on for every crate
# through RUSTFLAGS, and per-package profile flags come before RUSTFLAGS, so
# the level is set back to 0 here, after them (LLVM takes the last value).
# Generic code is compiled where it is used, so a generic function of an
# uncovered crate that the target instantiates is still covered.
# FUZZ_RUSTC_WRAPPER, if set, is the wrapper this one replaced; it still runs.
set -euo pipefail
rustc=$1
shift
wrapper=()
if [ -n "${FUZZ_RUSTC_WRAPPER:-}" ]; then wrapper=("$FUZZ_RUSTC_WRAPPER"); fi
crate=
previous=
for arg in "$@"; do
  if [ "$previous" = --crate-name ]; then crate=$arg; fi
  previous=$arg
done
if [ -n "$crate" ] && [[ " ${FUZZ_UNCOVERED:-} " == *" $crate "* ]]; then
  exec "${wrapper[@]}" "$rustc" "$@" -Cllvm-args=-sanitizer-coverage-level=0
fi
exec "${wrapper[@]}" "$rustc" "$@"

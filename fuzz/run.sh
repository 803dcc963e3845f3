#!/usr/bin/env bash
# Runs one fuzz target with its build configuration and the shared libFuzzer
# options:
#
#   fuzz/run.sh <target> [seconds] [more libFuzzer options...]
#
# seconds defaults to 600. Builds the target first if needed (nightly,
# through fuzz/cargo-fuzz.sh). The corpus is fuzz/corpus/<target>/
# (fuzz/seed.sh fills it); a crash is written to fuzz/artifacts/<target>/.
# fuzz/ci.sh runs every target through this.
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh <target> [seconds] [libFuzzer options...]}
seconds=${2:-600}
shift $(($# < 2 ? $# : 2))
exec ./cargo-fuzz.sh run "$target" -- \
  -dict=talon.dict -max_total_time="$seconds" -print_final_stats=1 "$@"

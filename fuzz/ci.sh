#!/usr/bin/env bash
# Fuzz CI: install cargo-fuzz if missing, build every target with nightly,
# seed the corpus, then run each target for a short fixed time (default 30 s,
# FUZZ_SECONDS to change it), one at a time. A crash, an oracle failure, a
# timeout or an out-of-memory fails the script: libFuzzer writes the input to
# fuzz/artifacts/<target>/ and prints the command that reproduces it.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-30}
targets=(flatten map_event map_json_bytes fake_request round_trip mapping_eval actions_map)

if ! cargo fuzz --version > /dev/null 2>&1; then
  echo "--- fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

echo "--- fuzz: build (nightly)"
# Each target with its own configuration (fuzz/cargo-fuzz.sh says which and why).
for target in "${targets[@]}"; do
  ./cargo-fuzz.sh build "$target"
done

echo "--- fuzz: seed"
./seed.sh

mkdir -p target/ci-logs
for target in "${targets[@]}"; do
  echo "--- fuzz: $target for ${seconds}s"
  log=target/ci-logs/$target.log
  status=0
  ./run.sh "$target" "$seconds" -timeout=10 -rss_limit_mb=2048 > "$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::(number_of_executed_units|average_exec_per_sec))' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 80 "$log"
    # libFuzzer names the input it wrote; without one, the target failed before fuzzing
    # (a build error, say), and there is no input to reproduce.
    artifact=$(sed -n 's/.*Test unit written to \(\S*\).*/\1/p' "$log" | tail -n 1)
    if [ -n "$artifact" ]; then
      echo "fuzz target $target failed (exit $status) on the input $artifact; reproduce with:"
      echo "  cd fuzz && ./cargo-fuzz.sh run $target ${artifact#./}"
    else
      echo "fuzz target $target failed (exit $status) before fuzzing, with no input written: see its log above ($log)"
    fi
    exit "$status"
  fi
done
echo "--- fuzz: ok (${#targets[@]} targets, ${seconds}s each)"

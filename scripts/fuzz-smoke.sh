#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for a short, bounded time (default 20 s;
# FUZZ_SECONDS=N to change, FUZZ_TARGETS="a b" to pick). Each run starts from the committed seed
# corpus (fuzz/seeds/<target>) and writes new inputs to a scratch corpus, so the repository stays
# unchanged. A crash fails the script; libFuzzer prints the input and writes it under
# fuzz/artifacts/<target>/ (turn it into a regression test or a seed).
# Needs the nightly toolchain and cargo-fuzz (.ci/run installs both when missing).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-20}"
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
cargo +nightly fuzz build -O
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
  mkdir -p "$scratch/$target"
  echo "== fuzz $target for ${seconds}s"
  # -rss_limit_mb bounds memory; -max_len keeps inputs near real sizes (tokens, keys, log lines).
  status=0
  cargo +nightly fuzz run -O "$target" "$scratch/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    >"$scratch/$target.log" 2>&1 || status=$?
  grep -E "^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|thread .* panicked)" "$scratch/$target.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$scratch/$target.log" >&2
    echo "fuzz target $target FAILED (exit $status); the input is under fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
echo "fuzz smoke: all targets ran ${seconds}s without a failure"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a libFuzzer target for a bounded time from an empty corpus; fails on any finding.
# usage: run_fuzzer.sh FUZZER SECONDS NAME [SEED ...]
set -uo pipefail
fuzzer="$1"; seconds="$2"; name="$3"; shift 3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
for seed in "$@"; do cp "$seed" "$work/corpus/"; done
"$fuzzer" -max_total_time="$seconds" -max_len=2048 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" > "$work/log" 2>&1
status=$?
runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$')"
if [[ $status -ne 0 ]]; then
  tail -40 "$work/log"
  echo "fuzz: $name: FAILED after ${runs:-?} runs (exit $status)"
  exit 1
fi
echo "fuzz: $name: ${runs:-?} runs in ${seconds}s, no crash"

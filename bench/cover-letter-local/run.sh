#!/usr/bin/env bash
# Runs experiments/cover-letter-local.yaml (two local guests, 18 cells of about
# 2 minutes) with a release build and prints its report, for the figures in
# docs/benchmarks.md ("Cover letter, local"). Takes about 37 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --static-swift-stdlib --product pvbench >/dev/null
bin=.build/release/pvbench
run_dir=$("$bin" run experiments/cover-letter-local.yaml)
"$bin" report "$run_dir"

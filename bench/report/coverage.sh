#!/bin/sh
# Measures the coverage the report's intervals attain on synthetic data with a known
# true value (release build). Usage: bench/report/coverage.sh [TRIALS]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
swift build -c release --product pvbench-coverage --package-path "$root" >/dev/null
"$root/.build/release/pvbench-coverage" "$@"

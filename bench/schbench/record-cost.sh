#!/usr/bin/env bash
# Cost of recording one latency sample (LatencyHistogram.record) in a release build.
# Compiles bench/schbench/RecordCost.swift with swiftc -O against the release objects of
# the Workloads, Histogram and CPVBenchShims modules (no test framework, no pvbench flag).
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRATCH=${SCRATCH:-.build-release}
OUT=bench/out/schbench
mkdir -p "$OUT"
swift build -c release --scratch-path "$SCRATCH" --target Workloads >/dev/null
REL="$SCRATCH/release"
NUMERICS_SHIMS=$(find "$SCRATCH/checkouts" -path '*_NumericsShims/include' -type d | head -1)
swiftc -O -module-name RecordCost -o "$OUT/record-cost" \
  -I "$REL/Modules" -Xcc -fmodule-map-file="$REL/CPVBenchShims.build/module.modulemap" \
  -Xcc -I -Xcc Sources/CPVBenchShims/include -Xcc -I -Xcc "$NUMERICS_SHIMS" \
  bench/schbench/RecordCost.swift \
  "$REL"/Workloads.build/*.o "$REL"/Histogram.build/*.o "$REL"/CPVBenchShims.build/*.o \
  "$REL"/RealModule.build/*.o "$REL"/_NumericsShims.build/*.o
"$OUT/record-cost"

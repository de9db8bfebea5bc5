#!/usr/bin/env bash
# Peak resident memory (VmHWM) of `pvbench workload schbench -m 1 -t 64 -r RUNTIME`.
#   bench/schbench/rss.sh [RUNTIME]     (default 10 s)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNTIME=${1:-10}
SCRATCH=${SCRATCH:-.build-release}
swift build -c release --scratch-path "$SCRATCH" --product pvbench >/dev/null
"$SCRATCH/release/pvbench" workload schbench -m 1 -t 64 -r "$RUNTIME" 2>/dev/null &
PID=$!
HWM=""
while kill -0 "$PID" 2>/dev/null; do
  LINE=$(grep VmHWM "/proc/$PID/status" 2>/dev/null || true)
  [ -n "$LINE" ] && HWM=$LINE
  sleep 0.2
done
wait "$PID"
echo "pvbench workload schbench -m 1 -t 64 -r $RUNTIME: $HWM"

#!/usr/bin/env bash
# The run engine's own costs, on this machine with two local agents:
#  - how far the noise host's busy/idle edges land from the schedule, on the
#    controller's clock (the edge times in events.jsonl are already mapped through
#    the clock offset; the schedule is the first edge plus k half-periods);
#  - the controller's CPU use over the run (utime+stime of `pvbench run` itself,
#    from /proc/PID/stat, divided by the wall time).
# Targets: edges within 20 ms; controller under 2 % of one CPU.
# Usage: bench/run/run.sh [runtime-seconds]   (release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
runtime=${1:-60}
swift build -c release --product pvbench >/dev/null
bin=$PWD/.build/release/pvbench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/bench.yaml" <<YAML
name: bench-run
hosts:
  box: { local: {} }
  noisy: { local: {} }
measure:
  host: box
  schbench: { message_threads: 1, workers: 1, runtime: ${runtime}s, interval: 1s, cache_footprint: 16K, operations: 1 }
noise:
  host: noisy
  stress: { busy: 5s, idle: 5s, workers: 1, engine: builtin }
modes: [out-of-box]
trigger: static
YAML
start=$(date +%s%N)
"$bin" run "$work/bench.yaml" --results "$work/results" --quiet > "$work/run-dir" &
pid=$!
ticks=0
while kill -0 "$pid" 2>/dev/null; do
  t=$(awk '{print $14 + $15}' /proc/$pid/stat 2>/dev/null || echo "$ticks")
  ticks=$t
  sleep 0.5
done
wait "$pid"
end=$(date +%s%N)
hz=$(getconf CLK_TCK)
run=$(cat "$work/run-dir")
python3 - "$run" "$ticks" "$hz" "$start" "$end" <<'PY'
import glob, json, sys, statistics
run, ticks, hz, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
wall = (end - start) / 1e9
events = [json.loads(l) for l in open(glob.glob(run + "/cells/*/events.jsonl")[0])]
edges = [e["timeNanoseconds"] for e in events if e["kind"] == "phase-edge" and e["detail"] in ("busy", "idle")]
half = 5e9
errors = [abs(t - (edges[0] + round((t - edges[0]) / half) * half)) / 1e6 for t in edges]
print(f"edges: {len(edges)}, deviation from schedule on the controller clock: "
      f"median {statistics.median(errors):.2f} ms, max {max(errors):.2f} ms")
print(f"controller CPU: {ticks / hz:.2f} s over {wall:.1f} s wall = {100 * ticks / hz / wall:.2f} % of one CPU")
PY

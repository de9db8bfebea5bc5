#!/usr/bin/env bash
# Stress edges: how close to schedule the busy/idle edges land and how much CPU the
# burners got, for the built-in spinners, stress-ng with SIGSTOP/SIGCONT, and stress-ng
# restarted per busy phase, run one after the other.
#   bench/stress/run.sh [CYCLES] [BUSY] [IDLE] [WORKERS]   (defaults: 10 300ms 300ms all)
set -euo pipefail
cd "$(dirname "$0")/../.."
CYCLES=${1:-10}
BUSY=${2:-300ms}
IDLE=${3:-300ms}
WORKERS=${4:-all}
SCRATCH=${SCRATCH:-.build-release}
OUT=bench/out/stress
mkdir -p "$OUT"
swift build -c release --scratch-path "$SCRATCH" --product pvbench >/dev/null
PVBENCH="$SCRATCH/release/pvbench"
echo "machine: $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
for variant in builtin stress-ng:stop-continue stress-ng:restart; do
  engine=${variant%%:*}
  control=${variant#*:}
  [ "$control" = "$variant" ] && control=stop-continue
  "$PVBENCH" workload stress --busy "$BUSY" --idle "$IDLE" --cycles "$CYCLES" \
    --workers "$WORKERS" --engine "$engine" --stress-ng-control "$control" --json \
    >"$OUT/${variant//:/-}.jsonl"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
out = sys.argv[1]
print(f"{'variant':<26}{'late med ms':>12}{'late max ms':>12}{'busy% med':>10}"
      f"{'burn% busy':>11}{'burn% idle':>11}")
for variant in ["builtin", "stress-ng-stop-continue", "stress-ng-restart"]:
    edges, phases = [], []
    for line in open(f"{out}/{variant}.jsonl"):
        doc = json.loads(line)
        if "edge" in doc: edges.append(doc["edge"])
        if "phase" in doc: phases.append(doc["phase"])
    late = [max(0, e["monotonicNanoseconds"] - e["scheduledMonotonicNanoseconds"]) / 1e6
            for e in edges if e["phase"] != "end"]
    busy = [p for p in phases if p["phase"] == "busy"]
    idle = [p for p in phases if p["phase"] == "idle"]
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    print(f"{variant:<26}{med(late):>12.2f}{max(late):>12.2f}"
          f"{100*med([p['busyFraction'] for p in busy]):>10.1f}"
          f"{100*med([p.get('burnerFraction') or 0 for p in busy]):>11.1f}"
          f"{100*med([p.get('burnerFraction') or 0 for p in idle]):>11.1f}")
PY

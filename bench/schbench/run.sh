#!/usr/bin/env bash
# Fidelity benchmark: `pvbench workload schbench` against a bare futex ping-pong (the floor
# of wake-to-run cost), interleaved so machine noise hits every variant alike.
#
#   bench/schbench/run.sh [REPS] [RUNTIME]      (defaults: 3 repetitions, 10 s each)
#
# Variants per repetition, in this order:
#   pingpong       bench/futex-pingpong.c, no sleep between handoffs
#   pingpong-100   the same with a 100 µs usleep (schbench's default request sleep)
#   m1t2           pvbench workload schbench -m 1 -t 2 -r RUNTIME
#   m2t2           pvbench workload schbench -m 2 -t 2 -r RUNTIME
#   m1t1-n0        pvbench workload schbench -m 1 -t 1 -n 0 -r RUNTIME: the same handoff and
#                  100 µs sleep as pingpong-100 with no matrix work, i.e. our own overhead
# Prints the median over repetitions of p50/p90/p99 wakeup latency (µs, from ns samples),
# and RPS for the schbench variants, then each variant's p50/p99 as a ratio of pingpong-100.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${1:-3}
RUNTIME=${2:-10}
OUT=bench/out/schbench
mkdir -p "$OUT"
SCRATCH=${SCRATCH:-.build-release}
swift build -c release --scratch-path "$SCRATCH" --product pvbench >/dev/null
PVBENCH="$SCRATCH/release/pvbench"
gcc -O2 -Wall -o "$OUT/futex-pingpong" bench/futex-pingpong.c -lpthread

echo "machine: $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPS"); do
  "$OUT/futex-pingpong" "$RUNTIME" 0 >"$OUT/pingpong.$rep.txt"
  "$OUT/futex-pingpong" "$RUNTIME" 100 >"$OUT/pingpong-100.$rep.txt"
  "$PVBENCH" workload schbench -m 1 -t 2 -r "$RUNTIME" -j "$OUT/m1t2.$rep.json" 2>/dev/null
  "$PVBENCH" workload schbench -m 2 -t 2 -r "$RUNTIME" -j "$OUT/m2t2.$rep.json" 2>/dev/null
  "$PVBENCH" workload schbench -m 1 -t 1 -n 0 -r "$RUNTIME" -j "$OUT/m1t1-n0.$rep.json" \
    2>/dev/null
  echo "repetition $rep done (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$OUT" "$REPS" <<'PY'
import json, statistics, sys
out, reps = sys.argv[1], int(sys.argv[2])
rows = {}
for name in ["pingpong", "pingpong-100"]:
    runs = []
    for rep in range(1, reps + 1):
        fields = dict(kv.split("=") for kv in open(f"{out}/{name}.{rep}.txt").read().split())
        runs.append({"p50": int(fields["p50_ns"]) / 1e3, "p90": int(fields["p90_ns"]) / 1e3,
                     "p99": int(fields["p99_ns"]) / 1e3, "rps": None})
    rows[name] = runs
for name in ["m1t2", "m2t2", "m1t1-n0"]:
    runs = []
    for rep in range(1, reps + 1):
        doc = json.load(open(f"{out}/{name}.{rep}.json"))
        p = {line["percentile"]: line["value"] / 1e3 for line in doc["wakeupLatency"]["percentiles"]}
        runs.append({"p50": p[50], "p90": p[90], "p99": p[99], "rps": doc["averageRPS"]})
    rows[name] = runs
med = lambda name, key: statistics.median(r[key] for r in rows[name])
print(f"{'variant':<14}{'p50 us':>10}{'p90 us':>10}{'p99 us':>10}{'RPS':>10}")
for name in rows:
    rps = "" if rows[name][0]["rps"] is None else f"{med(name, 'rps'):.0f}"
    print(f"{name:<14}{med(name,'p50'):>10.1f}{med(name,'p90'):>10.1f}{med(name,'p99'):>10.1f}{rps:>10}")
base = "pingpong-100"
for name in ["m1t2", "m2t2", "m1t1-n0"]:
    print(f"{name} / {base}: p50 x{med(name,'p50')/med(base,'p50'):.2f}, "
          f"p99 x{med(name,'p99')/med(base,'p99'):.2f}")
PY

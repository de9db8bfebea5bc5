#!/usr/bin/env bash
# Issue 21's calibration of the local pool against the cover letter: the light
# check (experiments/pool-calibration.yaml: one worker, modes held per cell)
# and the heavy one (two workers, modes applied at each busy edge, so the
# switch times are under load), each under every pool model, REPEAT runs of
# each. Prints every report, then one table: for each model, which of the
# cover letter's statements this machine reproduces, with the figures and the
# run folders they come from (docs/vm.md, "Calibration").
#
#   REPEAT=2 bench/vm/calibration.sh             # 12 runs, about 45 minutes
#   MODELS="dispatch" REPEAT=1 bench/vm/calibration.sh
#   CALIBRATION_RUNS="results/a/1 results/b/2" bench/vm/calibration.sh   # table only
#
# Run it on a quiet machine: the statements compare modes within a run, but a
# loaded host starves the guests (rps falls tenfold) and the tails follow.
set -euo pipefail
cd "$(dirname "$0")/../.."
repeat=${REPEAT:-2}
models=${MODELS:-dispatch entitled fair}
window=${WINDOW:-10ms}
bin=${PVBENCH:-.build/release/pvbench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The light experiment as shipped, with the model and workload changed.
variant() { # name model workers trigger
  sed -e "s/^name: pool-calibration/name: $1/" \
    -e "s/model: dispatch, window: 10ms/model: $2, window: $window/" \
    -e "s/workers: 1, runtime/workers: $3, runtime/" \
    -e "s/^trigger: static/trigger: $4/" \
    experiments/pool-calibration.yaml
}

runs=${CALIBRATION_RUNS:-}
if [ -z "$runs" ]; then
  for model in $models; do
    variant "calibration-light-$model" "$model" 1 static >"$work/light-$model.yaml"
    variant "calibration-heavy-$model" "$model" 2 follow-noise >"$work/heavy-$model.yaml"
  done
  for ((r = 1; r <= repeat; r++)); do
    for model in $models; do
      for load in light heavy; do
        echo "== $load, $model, run $r of $repeat" >&2
        run_dir=$("$bin" run --quiet "$work/$load-$model.yaml")
        "$bin" report --no-plots "$run_dir" >&2
        runs="$runs ${run_dir#"$PWD"/}"
      done
    done
  done
fi

for run_dir in $runs; do
  "$bin" report --no-plots --format json "$run_dir" >"$work/$(echo "$run_dir" | tr / _).json"
  echo "$run_dir $work/$(echo "$run_dir" | tr / _).json"
done >"$work/index"

python3 - "$work/index" <<'PY'
import json, sys

# The cover letter's statements, each a test on one run's report (busy phase).
FOLDED = ("hotplug", "cpuset")

def groups(report):
    return {g["key"]["modeID"]: g for g in report["groups"] if not g["key"]["point"]}

def value(stat):
    return None if stat is None or stat.get("value") is None else stat["value"]

def pct(group, p, report):
    index = report["percentiles"].index(p)
    return value(group["wakeup"][index])

def steal(group):
    return next((s["percent"] for s in group["steal"] if s["phase"] == "busy"), None)

def timing(report, mode, kind):
    return next((t["medianMilliseconds"] for t in report["timings"]
                 if t["modeID"] == mode and t["kind"] == kind), None)

def fmt(x, unit=""):
    return "-" if x is None else (f"{x:.0f}{unit}" if abs(x) >= 10 else f"{x:.2g}{unit}")

rows = []
for line in open(sys.argv[1]):
    run_dir, path = line.split()
    report = json.load(open(path))
    manifest = report["manifest"]
    pool = (manifest.get("environment") or {}).get("pool") or {}
    model = pool.get("model") or (manifest.get("environment") or {}).get("poolModel", "?")
    window_us = pool.get("windowMicroseconds") or 10_000
    load = "light" if "light" in manifest["experimentName"] else "heavy"
    g = groups(report)
    oob = g.get("out-of-box")
    folded = [g[m] for m in FOLDED if m in g]
    if oob is None or not folded:
        continue
    def add(statement, figures, holds):
        verdict = "-" if holds is None else ("yes" if holds else "no")
        rows.append((statement, model, load, run_dir, figures, verdict))
    evac = {m: timing(report, m, "evacuated") for m in FOLDED}
    if load == "heavy":
        ok = [v for v in evac.values() if v is not None]
        add("evacuation within 1-2 s under load",
            " / ".join(f"{m} {fmt(evac[m], ' ms')}" for m in FOLDED),
            None if not ok else all(v <= 2000 for v in ok))
        apply = {m: timing(report, m, "mode-apply") for m in FOLDED}
        add("hotplug slower to apply than cpuset",
            f"apply hotplug {fmt(apply['hotplug'], ' ms')} / cpuset {fmt(apply['cpuset'], ' ms')}",
            None if None in apply.values() else apply["hotplug"] > apply["cpuset"])
    p50 = [pct(x, 50, report) for x in [oob] + folded]
    add("median equal across modes (within 1.5x)",
        "p50 " + " / ".join(fmt(x, " us") for x in p50),
        None if None in p50 else max(p50) <= 1.5 * min(p50))
    tail = pct(oob, 99, report)
    add("out-of-box tail a fraction of the window (0.1-1x)",
        f"p99 {fmt(tail, ' us')}, window {window_us} us",
        None if tail is None else 0.1 * window_us <= tail <= window_us)
    ftails = [pct(x, 99, report) for x in folded]
    add("folded tail far below out-of-box (a fifth or less)",
        "p99 " + " / ".join(fmt(x, " us") for x in ftails),
        None if tail is None or None in ftails else all(x <= tail / 5 for x in ftails))
    s = [steal(x) for x in [oob] + folded]
    add("steal falls when folded",
        "steal " + " / ".join(fmt(x, "%") for x in s),
        None if None in s else all(x < s[0] for x in s[1:]))
    rps = [value(x["rps"]) for x in [oob] + folded]
    add("capacity kept when folded (rps within 10%)",
        "rps " + " / ".join(fmt(x) for x in rps),
        None if None in rps else all(x >= 0.9 * rps[0] for x in rps[1:]))

print("\nCalibration against the cover letter (busy phase; figures: out-of-box / "
      "hotplug / cpuset)\n")
print("| statement | model | load | run | figures | holds |")
print("|---|---|---|---|---|---|")
for row in sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3])):
    print("| " + " | ".join(row) + " |")
PY

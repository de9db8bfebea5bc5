#!/usr/bin/env python3
"""Writes a synthetic pvbench results store for timing `pvbench report`.

Usage: make_store.py OUT_DIR [--modes 4] [--points 5] [--reps 5] [--intervals 600]

The default is 4 modes x 5 sweep points x 5 repetitions = 100 cells of 600
one-second intervals each, alternating 10 busy and 10 idle intervals. Every
interval holds a wakeup and a request histogram of about 200 samples drawn
from a log-normal distribution (heavier in busy phases), stored as HDR bucket
values (3 significant digits), exactly like LatencyHistogram's encoding.
"""
import argparse
import json
import math
import os
import random


def hdr_value(v):
    """The highest value equivalent to v in an HDR histogram with 3 significant digits."""
    v = max(1, int(v))
    if v < 2048:
        return v
    shift = v.bit_length() - 11
    return ((v >> shift) << shift) + (1 << shift) - 1


def histogram(rng, n, median_ns, sigma):
    counts = {}
    for _ in range(n):
        value = hdr_value(rng.lognormvariate(math.log(median_ns), sigma))
        counts[value] = counts.get(value, 0) + 1
    return [[v, counts[v]] for v in sorted(counts)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--modes", type=int, default=4)
    parser.add_argument("--points", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--intervals", type=int, default=600)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(2026)
    kinds = ["out-of-box", "hotplug", "paravirt", "cpuset", "governor", "preferred"]
    labels = ["Out of Box", "cpu_hotplug", "cpu_paravirt", "cpuset", "governor", "cpu_preferred"]
    modes = [{"id": kinds[i], "kind": kinds[i], "label": labels[i]} for i in range(args.modes)]
    points = ["%ds" % (5 * (i + 1)) for i in range(args.points)]
    cells = []
    for m in modes:
        for p in points:
            for r in range(1, args.reps + 1):
                cells.append((m, p, r, "%s-busy%s-r%d" % (m["id"], p, r)))
    run = os.path.join(args.out, "bench-run")
    os.makedirs(os.path.join(run, "cells"), exist_ok=True)
    host = {
        "name": "lpar1", "role": "measure", "transport": "qemu",
        "kernelRelease": "6.1.0-56-cloud-amd64", "kernelCmdline": "console=ttyS0",
        "cpusPresent": "0-3", "cpusOnline": "0-3", "cores": 4, "threadsPerCore": 1,
        "entitled": 2, "interfaces": ["hotplug", "cpuset-v2"], "stealAccounting": True,
    }
    manifest = {
        "pvbenchVersion": "0.1.0", "experimentName": "bench-report", "runID": "bench-run",
        "commandLine": ["pvbench", "run", "bench.yaml"], "startedAt": "2026-11-24T00:00:00Z",
        "hosts": [host], "modes": modes, "plannedCells": [c[3] for c in cells],
        "scheduleDescription": "busy/idle swept over %s" % ", ".join(points),
        "sweepKeys": ["noise.stress.busy"], "repetitions": args.reps,
        "reportPercentiles": [50, 90, 99, 99.9],
    }
    with open(os.path.join(run, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    for index, (m, p, r, cid) in enumerate(cells):
        folder = os.path.join(run, "cells", cid)
        os.makedirs(folder, exist_ok=True)
        penalty = [8.0, 3.0, 1.5, 2.0, 2.5, 1.5][kinds.index(m["kind"])]
        lines = []
        events = []
        for i in range(args.intervals):
            busy = (i // 10) % 2 == 0
            scale = penalty if busy else 1.0
            if busy and i % 10 == 0:
                events.append({"timeNanoseconds": i * 10**9, "host": "lpar1",
                               "kind": "mode-apply", "detail": m["id"],
                               "milliseconds": round(rng.uniform(5, 40), 3)})
            if not busy and i % 10 == 0:
                events.append({"timeNanoseconds": i * 10**9, "host": "lpar1",
                               "kind": "mode-restore", "detail": m["id"],
                               "milliseconds": round(rng.uniform(5, 40), 3)})
            lines.append(json.dumps({
                "index": i, "startNanoseconds": i * 10**9, "endNanoseconds": (i + 1) * 10**9,
                "phase": "busy" if busy else "idle",
                "wakeup": histogram(rng, args.samples, 15000 * scale, 0.9),
                "request": histogram(rng, args.samples, 60000 * scale, 0.6),
                "rps": 4000 / scale + rng.uniform(-50, 50),
                "stealPercent": (30.0 if busy else 2.0) / scale * 2,
                "stealSource": "host", "noiseBusyPercent": 99.0 if busy else 1.0,
                "modeApplied": busy,
            }, separators=(",", ":")))
        with open(os.path.join(folder, "intervals.jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(folder, "events.jsonl"), "w") as f:
            f.write("".join(json.dumps(e) + "\n" for e in events))
        summary = {
            "id": cid, "modeID": m["id"], "point": {"noise.stress.busy": p}, "repetition": r,
            "status": "complete", "reasons": [], "startedAt": "2026-11-24T00:00:00Z",
            "endedAt": "2026-11-24T00:10:00Z", "phases": {}, "stealSource": "host",
            "settleMilliseconds": 500,
        }
        with open(os.path.join(folder, "cell.json"), "w") as f:
            json.dump(summary, f)
    print(run)


if __name__ == "__main__":
    main()

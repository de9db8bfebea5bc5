#!/usr/bin/env bash
# Issue 14's two tables under every pool model: the "heavy" quickstart of the
# issue (schbench -m 1 -t 2 -n 5, closed loop, modes following the noise) and
# the "light" workload (-t 1 -R 50 -n 1, modes held for the whole cell), each
# run with pool.model: dispatch (the default), entitled and fair, out-of-box
# against hotplug and a cpuset. Prints each run's report; docs/vm.md ("Pool
# models") quotes them. MODELS picks a subset, e.g. MODELS="entitled fair" for
# the comparison of the older models alone.
#
#   REPEAT=2 bench/vm/pool-models.sh        # 6 runs of 6 cells, about 21 minutes
set -euo pipefail
cd "$(dirname "$0")/../.."
repeat=${REPEAT:-2}
models=${MODELS:-dispatch entitled fair}
bin=${PVBENCH:-.build/release/pvbench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

experiment() { # name model schbench trigger
  cat <<YAML
name: $1
description: issue 14's $1 workload under pool.model $2
hosts:
  vm1: { qemu: { vcpus: 2, memory: 512M, kernel: auto }, entitled: 1 }
  vm2: { qemu: { vcpus: 2, memory: 384M, kernel: auto }, entitled: 1 }
pool: { host_cpus: all, model: $2 }
measure: { host: vm1, schbench: $3 }
noise: { host: vm2, stress: { busy: 10s, idle: 10s, workers: all, engine: auto } }
modes:
  - out-of-box
  - hotplug: { cpus: non-entitled }
  - cpuset: { cpus: non-entitled }
trigger: $4
settle: 1s
repeat: $repeat
YAML
}

for model in $models; do
  experiment "heavy-$model" "$model" \
    "{ message_threads: 1, workers: 2, runtime: 30s, interval: 1s }" follow-noise \
    >"$work/heavy-$model.yaml"
  experiment "light-$model" "$model" \
    "{ message_threads: 1, workers: 1, rps: 50, operations: 1, runtime: 30s, interval: 1s }" static \
    >"$work/light-$model.yaml"
done
for name in $(for m in $models; do echo "heavy-$m light-$m"; done); do
  echo "== $name"
  run_dir=$("$bin" run --quiet "$work/$name.yaml")
  echo "run: $run_dir"
  "$bin" report "$run_dir"
done

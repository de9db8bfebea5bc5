#!/usr/bin/env bash
# How long `pvbench plan` takes on an experiment of 1,000 cells
# (5 modes x 100 sweep points x 2 repetitions). Target: under 1 s.
# Usage: bench/plan/run.sh [runs]   (release build; prints the median of N runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-11}
swift build -c release --product pvbench >/dev/null
bin=.build/release/pvbench
file=$(mktemp --suffix=.yaml)
trap 'rm -f "$file"' EXIT
cat > "$file" <<'YAML'
name: plan-1000
hosts:
  vm1: { qemu: { vcpus: 8, memory: 512M }, entitled: 1 }
  vm2: { qemu: { vcpus: 4, memory: 512M }, entitled: 1 }
pool: { host_cpus: all }
measure: { host: vm1, schbench: { message_threads: 1, workers: 4, runtime: 30s } }
noise: { host: vm2, stress: { busy: 10s, idle: 10s } }
modes:
  - out-of-box
  - hotplug: { cpus: non-entitled }
  - cpuset: { cpus: non-entitled }
  - paravirt: { cpus: non-entitled }
  - governor: { apply: cpuset }
sweep:
  noise.stress.busy: [1s, 2s, 3s, 4s, 5s, 6s, 7s, 8s, 9s, 10s]
  measure.schbench.workers: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
repeat: 2
YAML
cells=$("$bin" plan --json "$file" | grep -c '"id"')
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin" plan "$file" >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
echo "pvbench plan, $cells cells: median ${median} ms over $runs runs (all: ${times[*]} ms)"

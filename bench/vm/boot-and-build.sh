#!/bin/sh
# Guest image build time (uncached, cached) and boot-to-agent-ready time under TCG.
# Usage: bench/vm/boot-and-build.sh [BOOTS] [PVBENCH]   (defaults: 5, .build/debug/pvbench)
# Prints one line per measurement and the median boot; raw output goes to bench/out/vm/.
set -eu
boots=${1:-5}
pvbench=${2:-.build/debug/pvbench}
out=bench/out/vm
mkdir -p "$out"
cache=$(mktemp -d /tmp/pvbench-bench-cache-XXXXXX)
trap 'rm -rf "$cache"' EXIT INT TERM
export PVBENCH_CACHE_DIR="$cache"

echo "host: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
echo "binary: $pvbench ($(du -h "$pvbench" | cut -f1))"
"$pvbench" vm build | tee "$out/build-uncached.txt" | sed -n 2p | sed 's/^/build (empty cache): /'
"$pvbench" vm build | tee "$out/build-cached.txt" | sed -n 2p | sed 's/^/build (cached):      /'

: > "$out/boots.txt"
i=1
while [ "$i" -le "$boots" ]; do
  "$pvbench" vm boot --accel tcg --vcpus 2 --memory 512M --timeout 120s \
    --console "$out/console-$i.log" | head -1 | tee -a "$out/boots.txt"
  i=$((i + 1))
done
sed -n 's/^guest ready in \([0-9.]*\) s.*/\1/p' "$out/boots.txt" | sort -n \
  | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "no boot succeeded"; exit 1 }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "boot to agent ready (TCG): median %.2f s, min %.2f s, max %.2f s over %d boots\n",
        m, v[1], v[NR], NR }'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if pgrep -f "pvbench-boot" >/dev/null; then echo "LEFTOVER QEMU"; exit 1; fi

#!/bin/sh
# Times `pvbench report` (release build, plots included) over a synthetic store
# of 100 cells x 600 intervals. Usage: bench/report/run.sh [extra report flags]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/out/report"
rm -rf "$out"
mkdir -p "$out"
python3 "$root/bench/report/make_store.py" "$out" >/dev/null
du -sh "$out/bench-run" | sed 's/^/store size: /'
swift build -c release --product pvbench --package-path "$root" >/dev/null
bin="$root/.build/release/pvbench"
for attempt in 1 2 3; do
  start=$(date +%s.%N)
  "$bin" report "$out/bench-run" "$@" >/dev/null
  end=$(date +%s.%N)
  echo "attempt $attempt: $(echo "$end - $start" | bc) s"
done
ls "$out/bench-run/report"

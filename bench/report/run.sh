#!/bin/sh
# Times `pvbench report` (release build, plots included) over a synthetic store
# of 100 cells x 600 intervals. Usage: bench/report/run.sh [extra report flags]
# STORE_ARGS="--reps 1 --intervals 20" makes a smaller store (make_store.py flags).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/out/report"
rm -rf "$out"
mkdir -p "$out"
# shellcheck disable=SC2086
python3 "$root/bench/report/make_store.py" "$out" ${STORE_ARGS:-} >/dev/null
du -sh "$out/bench-run" | sed 's/^/store size: /'
swift build -c release --product pvbench --package-path "$root" >/dev/null
bin="$root/.build/release/pvbench"
for attempt in 1 2 3; do
  /usr/bin/time -f "attempt $attempt: %e s elapsed, %U s user, %S s system, %M KB" \
    "$bin" report "$out/bench-run" "$@" >/dev/null
done
ls "$out/bench-run/report"

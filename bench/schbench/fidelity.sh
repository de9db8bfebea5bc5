#!/usr/bin/env bash
# Upstream schbench, `pvbench workload schbench` (the Swift workload) and the portable
# agent's workload (agent/schbench.c), interleaved, side by side.
#
#   bench/schbench/fidelity.sh SCHBENCH_BINARY [PVBENCH_BINARY]
#
# SCHBENCH_BINARY: upstream schbench built outside this repository (masoncl/schbench).
# PVBENCH_BINARY:  default .build/release/pvbench (swift build -c release).
# The portable workload is built here from bench/schbench/portable-driver.c with
# agent/schbench.c, agent/hdr.c and the shims (gcc -O2, matrix.c with -falign-loops=64 as
# Package.swift has it; PORTABLE=BINARY uses another).
# Environment: REPS (default 5, runs of each tool per config), RUNTIME (default 7 s, -r; 4
# configs x 3 tools x REPS runs, about 13 min).
#
# For each config the three tools run one after the other, REPS times, rotating which goes
# first. The figures are medians over the REPS runs: wakeup p50/p99, request p50/p99 (µs, the
# final table) and `average rps`; the ratios are pvbench / schbench and portable / schbench.
# In `-R` mode the wakeup p99
# is shown as the range over the runs, because schbench's own varies by orders of magnitude.
# `cpu µs/request` is the process's user+system CPU time (/usr/bin/time) over its requests
# (average rps × runtime): the cost of a request, which other load on the machine hardly
# changes, unlike the latencies.
# The `hog` config runs `stress-ng --cpu 1` (or a shell busy loop without stress-ng) beside
# both tools. Raw outputs are kept in bench/out/schbench-fidelity/.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHBENCH=${1:?usage: bench/schbench/fidelity.sh SCHBENCH_BINARY [PVBENCH_BINARY]}
PVBENCH=${2:-.build/release/pvbench}
REPS=${REPS:-5}
RUNTIME=${RUNTIME:-7}
OUT=bench/out/schbench-fidelity
mkdir -p "$OUT"
[ -x "$SCHBENCH" ] || { echo "fidelity.sh: '$SCHBENCH' is not an executable" >&2; exit 2; }
[ -x "$PVBENCH" ] || { echo "fidelity.sh: '$PVBENCH' is missing; run swift build -c release" >&2; exit 2; }
PORTABLE=${PORTABLE:-}
if [ -z "$PORTABLE" ]; then
  PORTABLE=$OUT/portable-schbench
  SHIMS=Sources/CPVBenchShims
  PORTABLE_FLAGS="-O2 -D_Nonnull= -D_Nullable= -I$SHIMS/include"
  # The project's own multiply, compiled as Package.swift compiles it (matrix.c alone with
  # -falign-loops=64), and its other shims, as agent/Makefile links them into the agent.
  gcc $PORTABLE_FLAGS -falign-loops=64 -c -o "$OUT/matrix.o" "$SHIMS/matrix.c"
  gcc $PORTABLE_FLAGS -pthread -Iagent -o "$OUT/portable-schbench" bench/schbench/portable-driver.c \
    agent/schbench.c agent/hdr.c "$SHIMS/shims.c" "$OUT/matrix.o"
fi

HOG_PID=""
stop_hog() {
  if [ -n "$HOG_PID" ]; then
    kill -TERM -- "-$HOG_PID" 2>/dev/null || kill -TERM "$HOG_PID" 2>/dev/null || true
    wait "$HOG_PID" 2>/dev/null || true
    HOG_PID=""
  fi
}
trap stop_hog EXIT
start_hog() {
  if command -v stress-ng >/dev/null; then
    setsid stress-ng --cpu 1 --cpu-method int64 --timeout $((RUNTIME * REPS * 2 + 60)) \
      >/dev/null 2>&1 &
  else
    setsid bash -c 'while :; do :; done' &
  fi
  HOG_PID=$!
  sleep 1
}

TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=""

# The final block's figures of one output file: "wp50 wp99 rp50 rp99 rps cpu-µs/request".
figures() {
  local cpu="${1%.txt}.cpu"
  awk -v runtime="$RUNTIME" -v cpu="$( [ -s "$cpu" ] && awk '{ print $1 + $2 }' "$cpu" || echo 0)" '
    /^Wakeup Latencies/ { block = "w" }
    /^Request Latencies/ { block = "r" }
    /^RPS percentiles/ { block = "" }
    /50\.0th:/ && block != "" { p50[block] = $2 }
    /99\.0th:/ && block != "" { p99[block] = $3 }
    /^average rps:/ { rps = $3 }
    END {
      perRequest = (rps > 0 && cpu > 0) ? sprintf("%.0f", cpu * 1e6 / (rps * runtime)) : 0
      print p50["w"], p99["w"], p50["r"], p99["r"], rps, perRequest
    }
  ' "$1"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }

run_config() {
  local name=$1
  shift
  local flags=("$@")
  for rep in $(seq 1 "$REPS"); do
    local order=(s p c)
    [ $((rep % 3)) -eq 2 ] && order=(p c s)
    [ $((rep % 3)) -eq 0 ] && order=(c s p)
    for tool in "${order[@]}"; do
      local command=("$SCHBENCH")
      [ "$tool" = p ] && command=("$PVBENCH" workload schbench)
      [ "$tool" = c ] && command=("$PORTABLE")
      $TIME -f "%U %S" -o "$OUT/$name.$tool.$rep.cpu" \
        "${command[@]}" "${flags[@]}" -r "$RUNTIME" -i "$RUNTIME" \
        2>"$OUT/$name.$tool.$rep.txt" >/dev/null
    done
  done
}

report_config() {
  local name=$1 paced=$2
  printf '\n%s (%s runs each, -r %s)\n' "$name" "$REPS" "$RUNTIME"
  printf '  %-16s %12s %12s %12s %8s %8s\n' figure schbench pvbench portable "p/s" "c/s"
  local labels=("wakeup p50 µs" "wakeup p99 µs" "request p50 µs" "request p99 µs" "average rps"
    "cpu µs/request")
  for column in 1 2 3 4 5 6; do
    local label=${labels[$((column - 1))]}
    if [ "$paced" = yes ] && [ "$column" = 2 ]; then
      local sr pr cr
      sr=$(for f in "$OUT/$name".s.*.txt; do figures "$f"; done | awk -v c=$column '{ print $c }' | range)
      pr=$(for f in "$OUT/$name".p.*.txt; do figures "$f"; done | awk -v c=$column '{ print $c }' | range)
      cr=$(for f in "$OUT/$name".c.*.txt; do figures "$f"; done | awk -v c=$column '{ print $c }' | range)
      printf '  %-16s %12s %12s %12s %8s\n' "$label" "$sr" "$pr" "$cr" "(range)"
      continue
    fi
    local s p c
    s=$(for f in "$OUT/$name".s.*.txt; do figures "$f"; done | awk -v c=$column '{ print $c }' | median)
    p=$(for f in "$OUT/$name".p.*.txt; do figures "$f"; done | awk -v c=$column '{ print $c }' | median)
    c=$(for f in "$OUT/$name".c.*.txt; do figures "$f"; done | awk -v c=$column '{ print $c }' | median)
    printf '  %-16s %12s %12s %12s %8s %8s\n' "$label" "$s" "$p" "$c" \
      "$(awk -v s="$s" -v p="$p" 'BEGIN { if (s > 0) printf "%.2f", p / s; else print "-" }')" \
      "$(awk -v s="$s" -v p="$c" 'BEGIN { if (s > 0) printf "%.2f", p / s; else print "-" }')"
  done
}

echo "schbench: $SCHBENCH"
echo "pvbench:  $PVBENCH ($("$PVBENCH" --version 2>/dev/null || echo unknown version))"
echo "portable: $PORTABLE"
echo "machine:  $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg) at start"

run_config m1-t2 -m 1 -t 2
run_config m2-t4 -m 2 -t 4
run_config m1-t2-R200 -m 1 -t 2 -R 200
start_hog
run_config m1-t2-hog -m 1 -t 2
stop_hog

report_config m1-t2 no
report_config m2-t4 no
report_config m1-t2-R200 yes
report_config m1-t2-hog no
echo
echo "load $(cut -d' ' -f1-3 /proc/loadavg) at end"

#!/usr/bin/env bash
# Where the request's inner multiply loop sits in each binary, and what that costs.
#
#   bench/schbench/loop-layout.sh SCHBENCH_SOURCE_DIR [PVBENCH_BINARY]
#
# SCHBENCH_COMMIT names the upstream commit when SCHBENCH_SOURCE_DIR is not a git checkout.
# Builds upstream schbench (masoncl/schbench, outside this repository) twice with gcc: as
# its Makefile does (-Wall -O2 -g -W) and the same plus -falign-loops=64, and the portable
# agent's workload (bench/schbench/portable-driver.c with agent/schbench.c and the shims,
# gcc -O2, matrix.c with -falign-loops=64). For
# those three and pvbench it prints the inner loop's address range (the loop around the `imul` with a memory
# operand in do_some_math / pvb_matrix_multiply, which the portable agent shares) and whether it straddles a 64-byte line.
# Then it runs `-m 1 -t 1 -s 0 -r 5` of each, REPS times interleaved (default 5), and prints
# the CPU time per request: every thread's run time from /proc/PID/task/*/schedstat at 4.9 s,
# over `average rps` x 4.9. Medians, and the ratios to pvbench.
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=${1:?usage: bench/schbench/loop-layout.sh SCHBENCH_SOURCE_DIR [PVBENCH_BINARY]}
PVBENCH=${2:-.build/release/pvbench}
REPS=${REPS:-5}
OUT=bench/out/schbench-layout
mkdir -p "$OUT"
[ -f "$SRC/schbench.c" ] || { echo "loop-layout.sh: no schbench.c in $SRC" >&2; exit 2; }
[ -x "$PVBENCH" ] || { echo "loop-layout.sh: '$PVBENCH' is missing; swift build -c release" >&2; exit 2; }
FLAGS="-Wall -O2 -g -W -D_LARGEFILE_SOURCE -D_FILE_OFFSET_BITS=64"
gcc $FLAGS -o "$OUT/schbench-default" "$SRC/schbench.c" -lpthread -lm
gcc $FLAGS -falign-loops=64 -o "$OUT/schbench-align64" "$SRC/schbench.c" -lpthread -lm
SHIMS=Sources/CPVBenchShims
PORTABLE_FLAGS="-O2 -D_Nonnull= -D_Nullable= -I$SHIMS/include"
# The project's own multiply, compiled as Package.swift compiles it (matrix.c alone with
# -falign-loops=64), and its other shims, as agent/Makefile links them into the agent.
gcc $PORTABLE_FLAGS -falign-loops=64 -c -o "$OUT/matrix.o" "$SHIMS/matrix.c"
gcc $PORTABLE_FLAGS -pthread -Iagent -o "$OUT/portable-schbench" bench/schbench/portable-driver.c \
  agent/schbench.c agent/hdr.c "$SHIMS/shims.c" "$OUT/matrix.o"
echo "gcc: $(gcc --version | head -1); schbench commit: ${SCHBENCH_COMMIT:-$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)}"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"

# loop BINARY SYMBOL: "start-end (N bytes) straddles|inside one 64-byte line"
loop() {
  objdump -d --no-show-raw-insn "$1" | python3 -c '
import re, sys
symbol = sys.argv[1]
lines, inside = [], False
for line in sys.stdin:
    if re.match(r"^[0-9a-f]+ <(.*)>:$", line):
        inside = re.match(r"^[0-9a-f]+ <(.*)>:$", line).group(1) == symbol
        continue
    if inside:
        m = re.match(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m: lines.append((int(m.group(1), 16), m.group(2), m.group(3)))
imul = next(a for a, op, args in lines if op == "imul" and args.startswith("("))
for i, (a, op, args) in enumerate(lines):
    if a > imul and op.startswith("j") and op != "jmp":
        target = int(args.split()[0], 16)
        if target <= imul:
            end = lines[i + 1][0] if i + 1 < len(lines) else a + 2
            span = "straddles a 64-byte line" if target // 64 != (end - 1) // 64 else "inside one 64-byte line"
            print(f"{target:#x}-{end:#x} ({end - target} bytes), {span}")
            break
' "$2"
}
echo "schbench (Makefile flags):     $(loop "$OUT/schbench-default" do_some_math)"
echo "schbench (-falign-loops=64):   $(loop "$OUT/schbench-align64" do_some_math)"
echo "pvbench (pvb_matrix_multiply): $(loop "$PVBENCH" pvb_matrix_multiply)"
echo "portable (pvb_matrix_multiply):$(loop "$OUT/portable-schbench" pvb_matrix_multiply)"

# cost NAME CMD...: prints µs of CPU per request for one run
cost() {
  local log; log=$(mktemp)
  shift
  "$@" -m 1 -t 1 -s 0 -r 5 >"$log" 2>&1 &
  local pid=$! total=0
  sleep 4.9
  for t in /proc/$pid/task/*/schedstat; do
    read -r run _ < "$t" 2>/dev/null && total=$((total + run)) || true
  done
  wait "$pid" || true
  awk -v t="$total" '/average rps/ { printf "%.0f\n", t / 1000 / ($3 * 4.9) }' "$log"
  rm -f "$log"
}
: > "$OUT/costs"
for rep in $(seq 1 "$REPS"); do
  echo "default $(cost default "$OUT/schbench-default")" >> "$OUT/costs"
  echo "align64 $(cost align64 "$OUT/schbench-align64")" >> "$OUT/costs"
  echo "pvbench $(cost pvbench "$PVBENCH" workload schbench)" >> "$OUT/costs"
  echo "portable $(cost portable "$OUT/portable-schbench")" >> "$OUT/costs"
done
python3 - "$OUT/costs" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, value = line.split()
    runs.setdefault(name, []).append(float(value))
pv = statistics.median(runs["pvbench"])
print(f"cpu us/request, median of {len(runs['pvbench'])} (all runs):")
for name, label in [("default", "schbench (Makefile flags)"), ("align64", "schbench -falign-loops=64"), ("pvbench", "pvbench"), ("portable", "portable agent")]:
    values = runs[name]
    print(f"  {label:28} {statistics.median(values):6.0f}  ratio pvbench/this {pv / statistics.median(values):.2f}  ({', '.join(f'{v:.0f}' for v in values)})")
PY

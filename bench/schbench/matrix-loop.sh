#!/usr/bin/env bash
# The request's multiply loop built by gcc -O2 (schbench's build), clang -O2 and swiftc -O
# (three Swift forms), run interleaved ROUNDS times (default 3); each prints the best of 20
# times of 5 multiplies of 104 x 104 (-F 256 -n 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
OUT=bench/out/schbench
mkdir -p "$OUT"
gcc -O2 -o "$OUT/matrix-loop-gcc" bench/schbench/matrix-loop.c
CLANG=$(command -v clang || true)
[ -n "$CLANG" ] && "$CLANG" -O2 -o "$OUT/matrix-loop-clang" bench/schbench/matrix-loop.c
swiftc -O -o "$OUT/matrix-loop-swift" bench/schbench/MatrixLoop.swift
for _ in $(seq 1 "$ROUNDS"); do
  echo "gcc -O2: $("$OUT/matrix-loop-gcc")"
  [ -n "$CLANG" ] && echo "clang -O2: $("$OUT/matrix-loop-clang")"
  "$OUT/matrix-loop-swift"
done

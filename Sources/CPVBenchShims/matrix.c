// The schbench request's CPU work, in C so that its machine code is pinned down.
//
// The loop is the textbook multiply: for each element of the product, a running sum over
// one row of the first matrix and one column of the second, stored back into the product
// on every step (the product may alias the inputs as far as a compiler knows, so schbench's
// C compiled by gcc -O2 does the same: a register sum and one store per step).
//
// Two things decide its speed besides the arithmetic, and both are fixed here rather than
// left to the optimiser (docs/benchmarks.md, "The request's cost"):
// - No unrolling or vectorising: LLVM unrolls this loop by two or four where gcc -O2 does
//   not, which made the request 10-30 % cheaper than schbench's.
// - The inner loop starts on a 64-byte boundary (`-falign-loops=64` in Package.swift), so
//   its 26 bytes never straddle two 64-byte lines. On this project's Xeon (AVX-512, decoded
//   µops cached per 64-byte window) a straddling copy of the same eight instructions runs
//   about 30 % slower; the gcc 12.2 build of upstream schbench straddles, a build with
//   -falign-loops=64 does not, and pvbench matches the latter.
#include "pvbench_shims.h"

void pvb_matrix_multiply(uint64_t *block, uint64_t side) {
  uint64_t *first = block;
  uint64_t *second = block + side * side;
  uint64_t *third = block + 2 * side * side;
  for (uint64_t row = 0; row < side; row++) {
    for (uint64_t column = 0; column < side; column++) {
      uint64_t *product = &third[row * side + column];
      *product = 0;
#if defined(__clang__)
#pragma clang loop unroll(disable) vectorize(disable) interleave(disable)
#elif defined(__GNUC__)
// The portable agent's build (agent/Makefile) of this same file with gcc.
#pragma GCC unroll 1
#endif
      for (uint64_t k = 0; k < side; k++) {
        *product += first[row * side + k] * second[k * side + column];
      }
    }
  }
}

// The request's multiply loop in Swift, three ways (the third is Matrices.multiply's form;
// keep them in step). Prints the best of 20 times of 5 multiplies of 104 x 104.
#if canImport(Glibc)
  import Glibc
#endif

let n = 104

/// Before issue 11: separate initialised matrices, the sum kept in a register.
@inline(never)
func registerSum(_ a: UnsafeMutablePointer<UInt64>, _ b: UnsafeMutablePointer<UInt64>,
  _ c: UnsafeMutablePointer<UInt64>)
{
  for row in 0..<n {
    for column in 0..<n {
      var sum: UInt64 = 0
      for k in 0..<n { sum &+= a[row &* n &+ k] &* b[k &* n &+ column] }
      c[row &* n &+ column] = sum
    }
  }
}

/// The product written back each step; LLVM free to unroll.
@inline(never)
func writtenBack(_ block: UnsafeMutablePointer<UInt64>) {
  let first = block
  let second = block + n * n
  let third = block + 2 * n * n
  for row in 0..<n {
    for column in 0..<n {
      let product = third + (row &* n &+ column)
      product.pointee = 0
      for k in 0..<n { product.pointee &+= first[row &* n &+ k] &* second[k &* n &+ column] }
    }
  }
}

/// As Matrices.multiply: written back, optimised for size so the loop is not unrolled.
@inline(never)
@_optimize(size)
func notUnrolled(_ block: UnsafeMutablePointer<UInt64>) {
  let first = block
  let second = block + n * n
  let third = block + 2 * n * n
  for row in 0..<n {
    for column in 0..<n {
      let product = third + (row &* n &+ column)
      product.pointee = 0
      for k in 0..<n { product.pointee &+= first[row &* n &+ k] &* second[k &* n &+ column] }
    }
  }
}

func now() -> Double {
  var spec = timespec()
  clock_gettime(CLOCK_MONOTONIC, &spec)
  return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func best(_ body: () -> Void) -> Int {
  var best = 1e9
  for _ in 0..<20 {
    let start = now()
    for _ in 0..<5 { body() }
    best = min(best, now() - start)
  }
  return Int(best * 1e6)
}

let a = UnsafeMutablePointer<UInt64>.allocate(capacity: n * n)
let b = UnsafeMutablePointer<UInt64>.allocate(capacity: n * n)
let c = UnsafeMutablePointer<UInt64>.allocate(capacity: n * n)
for index in 0..<n * n {
  a[index] = UInt64(index) &* 2_654_435_761
  b[index] = UInt64(index) ^ 0x9E37_79B9
}
let block = malloc(3 * n * n * 8)!.assumingMemoryBound(to: UInt64.self)
print("swift register sum: \(best { registerSum(a, b, c) }) us")
print("swift written back: \(best { writtenBack(block) }) us")
print("swift not unrolled: \(best { notUnrolled(block) }) us")

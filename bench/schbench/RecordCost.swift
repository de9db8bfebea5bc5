// Cost of recording one sample into LatencyHistogram, release build.
// Built and run by bench/schbench/record-cost.sh against the release objects.
import Foundation
import Workloads

/// This thread's CPU time, ns: on a shared machine wall time would count other tasks' turns.
func threadCPUNanoseconds() -> UInt64 {
  var spec = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
  return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

let count = 10_000_000
var state: UInt64 = 0x9E37_79B9_7F4A_7C15
func next() -> UInt64 {
  state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
  return state
}
// "typical": wakeup-like, 2 µs + exponential with a 8 µs mean (a few hundred buckets).
// "spread": uniform over 1 µs … 16.8 ms (thousands of buckets, cache-unfriendly).
let typical = (0..<count).map { _ in
  2_000 + UInt64(-log(Double(next() >> 11 | 1) / Double(1 << 53)) * 8_000)
}
let spread = (0..<count).map { _ in 1_000 + (next() >> 40) }

for (name, values) in [("typical", typical), ("spread", spread)] {
  var results: [Double] = []
  for _ in 0..<7 {
    var histogram = LatencyHistogram()
    let start = threadCPUNanoseconds()
    for value in values { histogram.record(nanoseconds: value) }
    let end = threadCPUNanoseconds()
    blackHole(histogram.count)
    results.append(Double(end - start) / Double(count))
  }
  results.sort()
  print(
    String(
      format: "%@: record(nanoseconds:) median %.2f ns/sample, min %.2f, max %.2f (7 runs of %d)",
      name, results[3], results[0], results[6], count))
}

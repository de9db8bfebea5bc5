// Measures by simulation how often the report's intervals hold a known true value.
//
// 1. The median across repetitions (`Statistics.medianInterval`): per-repetition values
//    drawn from a log-normal with median 100; the interval is the order-statistic one.
// 2. One repetition (`IntervalBootstrap`): 60 intervals of 50 exponential samples whose
//    scale drifts as an AR(1) process in log space (lag-1 correlation rho); the true value
//    is the 90th percentile of the stationary mixture. The block bootstrap is run with
//    its chosen block length and with blocks of one interval (the old i.i.d. bootstrap).
//
// Usage: pvbench-coverage [TRIALS]   (default 2000 for 1., TRIALS/5 for 2.)
import Foundation
import Report
import Results
import Workloads

let trials = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 2000 : 2000
/// The simulation's random numbers, seeded so the figures repeat.
enum Random {
  nonisolated(unsafe) static var generator = SeededGenerator(seed: 2026)
}

func uniform() -> Double { (Double(Random.generator.next() >> 11) + 0.5) / Double(1 << 53) }
func normal() -> Double { sqrt(-2 * log(uniform())) * cos(2 * Double.pi * uniform()) }

print("1. Median across n repetitions, log-normal values, true median 100, \(trials) trials")
print("   n  claimed coverage  attained  interval")
for n in [2, 3, 4, 5, 6, 8, 10, 20] {
  var covered = 0
  var claimed = 0.0
  var kind = ""
  for _ in 0..<trials {
    let values = (0..<n).map { _ in 100 * exp(0.4 * normal()) }
    let estimate = Statistics.medianInterval(values)
    claimed = estimate.coverage
    kind = n < 6 ? "range (min-max)" : "order statistics"
    if estimate.low <= 100 && 100 <= estimate.high { covered += 1 }
  }
  print(
    String(
      format: "  %2d  %15.1f%%  %7.1f%%  %@", n, claimed * 100,
      Double(covered) / Double(trials) * 100, kind))
}

/// P(X <= x) for X ~ Exp(mean 100·e^z), z ~ N(0, sigma²), by midpoint integration over z.
func mixtureCDF(_ x: Double, sigma: Double) -> Double {
  let steps = 4000
  var total = 0.0
  var weight = 0.0
  for i in 0..<steps {
    let z = -8 * sigma + 16 * sigma * (Double(i) + 0.5) / Double(steps)
    let density = exp(-z * z / (2 * sigma * sigma))
    total += density * (1 - exp(-x / (100 * exp(z))))
    weight += density
  }
  return total / weight
}

func mixtureQuantile(_ q: Double, sigma: Double) -> Double {
  var low = 0.0
  var high = 100_000.0
  for _ in 0..<80 {
    let middle = (low + high) / 2
    if mixtureCDF(middle, sigma: sigma) < q { low = middle } else { high = middle }
  }
  return (low + high) / 2
}

let cellTrials = max(50, trials / 5)
let sigma = 0.3
let truth = mixtureQuantile(0.9, sigma: sigma)
print("")
print(
  "2. One repetition: p90 of 60 intervals x 50 samples, AR(1) log-scale drift "
    + "(sd \(sigma)), true p90 \(String(format: "%.1f", truth)) us, \(cellTrials) trials, "
    + "300 resamples")
print("  rho  block bootstrap (mean block)  i.i.d. bootstrap (block 1)")
for rho in [0.0, 0.5, 0.8, 0.95] {
  var coveredBlock = 0
  var coveredIID = 0
  var blocks = 0
  for trial in 0..<cellTrials {
    var z = sigma * normal()
    var intervals: [SparseHistogram] = []
    for _ in 0..<60 {
      z = rho * z + sigma * sqrt(1 - rho * rho) * normal()
      var histogram = LatencyHistogram()
      for _ in 0..<50 {
        histogram.record(nanoseconds: UInt64(-100_000 * exp(z) * log(uniform())) + 1)
      }
      intervals.append(SparseHistogram(pairs: histogram.buckets))
    }
    blocks += IntervalBootstrap.blockLength(intervals)
    for (fixed, counter) in [(nil as Int?, 0), (1, 1)] {
      guard
        let estimate = IntervalBootstrap.percentileEstimates(
          cells: [intervals], percentiles: [90], scale: 1.0 / 1000, resamples: 300,
          seed: UInt64(trial), blockLength: fixed)?.first
      else { continue }
      if estimate.low <= truth && truth <= estimate.high {
        if counter == 0 { coveredBlock += 1 } else { coveredIID += 1 }
      }
    }
  }
  print(
    String(
      format: "  %.2f  %19.1f%% (%.1f)  %25.1f%%", rho,
      Double(coveredBlock) / Double(cellTrials) * 100, Double(blocks) / Double(cellTrials),
      Double(coveredIID) / Double(cellTrials) * 100))
}

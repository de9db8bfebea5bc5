import Foundation
import LinuxHost
import Testing

@testable import Workloads

@Suite struct SchbenchReportTests {
  /// 1…1000 once each: the p-th percentile is exactly 10 × p.
  @Test func percentilesOfAUniformDistribution() {
    let buckets = (1...1000).map { (value: UInt64($0), count: UInt64(1)) }
    let lines = SchbenchReport.percentiles(of: buckets, at: [50, 90, 99, 99.9])
    #expect(lines.map(\.value) == [500, 900, 990, 999])
    #expect(lines.map(\.samples) == [500, 400, 90, 9])
  }

  /// 900 samples of 10 and 100 of 1000: p50 and p90 are 10, p99 and p99.9 are 1000.
  @Test func percentilesOfATwoPointDistribution() {
    let lines = SchbenchReport.percentiles(
      of: [(value: 10, count: 900), (value: 1000, count: 100)], at: [50, 90, 99, 99.9])
    #expect(lines.map(\.value) == [10, 10, 1000, 1000])
    #expect(lines.map(\.samples) == [900, 0, 100, 0])
  }

  @Test func percentilesOfNothingAreEmpty() {
    #expect(SchbenchReport.percentiles(of: [], at: [50]).isEmpty)
  }

  /// The histogram is exact below 2048 ns, so the same uniform answer comes back through it.
  @Test func histogramPercentilesMatchExactArithmetic() {
    var histogram = LatencyHistogram()
    for value in 1...1000 { histogram.record(nanoseconds: UInt64(value)) }
    let lines = SchbenchReport.percentiles(of: histogram.buckets, at: [50, 90, 99, 99.9])
    #expect(lines.map(\.value) == [500, 900, 990, 999])
    #expect(histogram.minNanoseconds == 1)
    #expect(histogram.maxNanoseconds == 1000)
  }

  /// An exponential distribution (mean 10 µs) through the 3-digit histogram: each
  /// percentile within 0.1 % of the closed form −ln(1 − p) × mean.
  @Test func exponentialPercentilesWithinHistogramPrecision() {
    var histogram = LatencyHistogram()
    let mean = 10_000.0
    let count = 100_000
    for index in 0..<count {
      // Inverse CDF at the midpoint of each of `count` equal-probability slices.
      let p = (Double(index) + 0.5) / Double(count)
      histogram.record(nanoseconds: UInt64(-log1p(-p) * mean))
    }
    for percentile in [50.0, 90.0, 99.0, 99.9] {
      let expected = -log1p(-percentile / 100) * mean
      let line = SchbenchReport.percentiles(of: histogram.buckets, at: [percentile])[0]
      #expect(abs(Double(line.value) - expected) / expected < 0.002, "p\(percentile)")
    }
  }

  /// The exact layout lkp-tests' and mmtests' parsers read, with schbench's arithmetic:
  /// whole-µs buckets, the 50.0th line's count leaving out the samples up to the hidden
  /// 20th, the RPS table over the samples in the order taken (its first is schbench's 0 at
  /// time 0, and min skips it), `average rps:` then `sched delay:`.
  @Test func goldenLayout() {
    var wakeup = LatencyHistogram()
    wakeup.record(nanoseconds: 9_000, count: 500)
    wakeup.record(nanoseconds: 13_000, count: 400)
    wakeup.record(nanoseconds: 21_000, count: 90)
    wakeup.record(nanoseconds: 41_000, count: 9)
    // 1 234 µs falls in schbench's bucket 1232–1235, printed as its midpoint 1234; the
    // histogram keeps it as 1 234 943 ns, so max rounds to 1235. schbench's threshold for
    // the 99.9th of 1000 is 99.9 / 100 × 1000 in doubles, 999.0000000000001, which 999
    // samples do not reach: the 99.9th is this one sample's bucket, with 10 samples.
    wakeup.record(nanoseconds: 1_234_000, count: 1)
    var request = LatencyHistogram()
    request.record(nanoseconds: 1_000_400, count: 3)
    // 800 ns rounds to 1 µs, the lowest sample, where the 20th lands; 1000 µs is in the
    // bucket 998–1001 that prints as 1001. Above 511 every value prints as its bucket's
    // midpoint, RPS too (12000 → 12016).
    request.record(nanoseconds: 800, count: 1)
    var result = SchbenchResult(
      wakeup: wakeup, request: request, rpsSamples: [0, 12000, 12345, 12400, 12500, 12600],
      averageRPS: 12345.674, runtimeSeconds: 10)
    result.messageSchedDelayNanoseconds = 12_999
    result.workerSchedDelayNanoseconds = 345_000
    let expected = """
      Wakeup Latencies percentiles (usec) runtime 10 (s) (1000 total samples)
      \t  50.0th: 9          (0 samples)
      \t  90.0th: 13         (400 samples)
      \t* 99.0th: 21         (90 samples)
      \t  99.9th: 1234       (10 samples)
      \t  min=9, max=1235
      Request Latencies percentiles (usec) runtime 10 (s) (4 total samples)
      \t  50.0th: 1001       (3 samples)
      \t  90.0th: 1001       (0 samples)
      \t* 99.0th: 1001       (0 samples)
      \t  99.9th: 1001       (0 samples)
      \t  min=1, max=1000
      RPS percentiles (requests) runtime 10 (s) (6 total samples)
      \t  20.0th: 12016      (2 samples)
      \t* 50.0th: 12336      (1 samples)
      \t  90.0th: 12592      (3 samples)
      \t  min=12000, max=12600
      average rps: 12345.67
      sched delay: message 12 (usec) worker 345 (usec)

      """
    #expect(SchbenchReport.final(result, runtimeSeconds: 10) == expected)
    var progress = result
    progress.currentRPS = 12600.4
    #expect(
      SchbenchReport.progress(progress, elapsedSeconds: 8)
        == SchbenchReport.blocks(progress, runtimeSeconds: 8)
        + "sched delay: message 12 (usec) worker 345 (usec)\ncurrent rps: 12600.40\n")
  }

  @Test func lineWidthsForLongValues() {
    let line = SchbenchReport.line(
      PercentileLine(percentile: 99.9, value: 123_456_789_012, samples: 7), starred: false)
    #expect(line == "\t  99.9th: 123456789012 (7 samples)")
  }

  @Test func summaryCarriesEveryPercentileAndTheCommandLine() {
    var wakeup = LatencyHistogram()
    for value in 1...1000 { wakeup.record(nanoseconds: UInt64(value)) }
    let result = SchbenchResult(
      wakeup: wakeup, rpsSamples: [10, 20], averageRPS: 15, runtimeSeconds: 2,
      commandLine: ["pvbench", "workload", "schbench", "-r", "2"])
    let summary = SchbenchSummary(result: result, options: SchbenchOptions())
    #expect(summary.wakeupLatency.percentiles.map(\.percentile) == SchbenchSummary.jsonPercentiles)
    #expect(summary.wakeupLatency.percentiles.first { $0.percentile == 99.9 }?.value == 999)
    #expect(summary.wakeupLatency.samples == 1000)
    #expect(summary.commandLine.last == "2")
    #expect(summary.rps.percentiles.map(\.value) == [10, 10, 20])
  }
}

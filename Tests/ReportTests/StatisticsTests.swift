import Foundation
import Results
import Testing
import Vocabulary
import Workloads

@testable import Report

@Suite struct StatisticsTests {
  /// Exponential samples with mean `mean`, from a seeded generator.
  static func exponential(_ generator: inout SeededGenerator, mean: Double) -> Double {
    let u = Double(generator.next() >> 11) / Double(1 << 53)
    return -mean * log(1 - u)
  }

  static func rebuilt(_ histogram: LatencyHistogram) -> LatencyHistogram {
    var copy = LatencyHistogram()
    for bucket in histogram.buckets { copy.record(nanoseconds: bucket.value, count: bucket.count) }
    return copy
  }

  @Test func sparsePercentilesMatchHDR() {
    var generator = SeededGenerator(seed: 7)
    var hdr = LatencyHistogram()
    var other = LatencyHistogram()
    for index in 0..<20_000 {
      let value = UInt64(exp(Double(generator.next() % 10_000) / 10_000 * log(1e6))) * 10
      if index % 3 == 0 { other.record(nanoseconds: value) } else { hdr.record(nanoseconds: value) }
    }
    // The store holds bucket values (highest equivalents), so compare with HDR
    // histograms rebuilt from those, as LatencyHistogram's decoder does.
    hdr = Self.rebuilt(hdr)
    other = Self.rebuilt(other)
    let sparse = SparseHistogram(pairs: hdr.buckets)
    let sparseOther = SparseHistogram(pairs: other.buckets)
    let merged = SparseHistogram.merged([sparse, sparseOther])
    var both = hdr
    both.merge(other)
    #expect(merged.total == both.count)
    for p in [1.0, 25, 50, 90, 99, 99.9, 99.99] {
      #expect(sparse.value(atPercentile: p) == hdr.nanoseconds(atPercentile: p), "p\(p)")
      #expect(merged.value(atPercentile: p) == both.nanoseconds(atPercentile: p), "merged p\(p)")
    }
  }

  @Test func medianOfOddAndEvenCounts() {
    #expect(Statistics.median([3, 1, 2]) == 2)
    #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
    #expect(Statistics.quantile(sorted: [0, 10], 0.25) == 2.5)
  }

  @Test func oneRepetitionGivesTheSingleValue() {
    let estimate = Statistics.medianInterval([42])
    #expect(estimate.method == .single)
    #expect(estimate.low == 42 && estimate.high == 42 && estimate.value == 42)
    #expect(estimate.coverage == 0)
  }

  /// The exact coverage of the order-statistic interval, 1 − 2·P(Bin(n, ½) ≤ k − 1).
  static let coverageCases: [(n: Int, k: Int, expected: Double)] = [
    (2, 1, 0.5), (3, 1, 0.75), (4, 1, 0.875), (5, 1, 0.9375), (6, 1, 0.96875),
    (8, 2, 1 - 2 * 9.0 / 256), (10, 2, 1 - 2 * 11.0 / 1024),
  ]

  @Test func orderStatisticCoverageIsExact() {
    for (n, k, expected) in Self.coverageCases {
      #expect(abs(Statistics.orderStatisticCoverage(n: n, k: k) - expected) < 1e-12, "n \(n)")
    }
  }

  @Test func fewRepetitionsGiveTheRangeWithItsRealCoverage() {
    let three = Statistics.medianInterval([30, 10, 20])
    #expect((three.low, three.value, three.high) == (10, 20, 30))
    #expect(three.method == .repetitions && three.coverage == 0.75)
    let two = Statistics.medianInterval([10, 20])
    #expect((two.low, two.value, two.high) == (10, 15, 20) && two.coverage == 0.5)
    // Ten values: [x(2), x(9)] holds the median 97.9 % of the time, [x(3), x(8)] only 89 %.
    let ten = Statistics.medianInterval((1...10).map(Double.init))
    #expect((ten.low, ten.high) == (2, 9))
    #expect(ten.coverage >= 0.95)
  }

  /// Simulated: 3 exponential repetitions (true median ln 2 · 100) in 4000 trials; the
  /// range holds the median 75 % of the time, not 95 %.
  @Test func rangeOfThreeCoversSeventyFivePercent() {
    var data = SeededGenerator(seed: 2026)
    let truth = log(2.0) * 100
    var covered = 0
    let trials = 4000
    for _ in 0..<trials {
      let estimate = Statistics.medianInterval(
        (0..<3).map { _ in Self.exponential(&data, mean: 100) })
      if estimate.low <= truth && truth <= estimate.high { covered += 1 }
    }
    let rate = Double(covered) / Double(trials)
    // Binomial standard error at 4000 trials: 0.7 %.
    #expect(abs(rate - 0.75) < 0.025, "coverage \(rate)")
  }

  @Test func permutationTestIsExactAndKnowsItsLimits() {
    // 4 against 4, fully separated: the two most extreme of C(8, 4) = 70 splits.
    let apart = Statistics.permutationTest([1, 2, 3, 4], [5, 6, 7, 8], seed: 1)
    #expect(abs(apart.p - 2.0 / 70) < 1e-12)
    #expect(abs(apart.smallestP - 2.0 / 70) < 1e-12)
    // 3 against 3 can never reach 5 %: 2 / C(6, 3) = 0.1.
    let three = Statistics.permutationTest([1, 2, 3], [5, 6, 7], seed: 1)
    #expect(three.smallestP == 0.1 && three.p == 0.1)
    // Identical values: every split is as extreme as the observed zero difference.
    #expect(Statistics.permutationTest([5, 5, 5, 5], [5, 5, 5, 5], seed: 1).p == 1)
  }

  /// Under no difference, the permutation test rejects at most 5 % of the time.
  @Test func permutationTestHoldsItsLevel() {
    var data = SeededGenerator(seed: 77)
    var rejected = 0
    let trials = 600
    for trial in 0..<trials {
      let a = (0..<5).map { _ in Self.exponential(&data, mean: 100) }
      let b = (0..<5).map { _ in Self.exponential(&data, mean: 100) }
      if Statistics.permutationTest(a, b, seed: UInt64(trial)).p <= 0.05 { rejected += 1 }
    }
    #expect(Double(rejected) / Double(trials) <= 0.07, "rejected \(rejected) of \(trials)")
  }

  /// Interval bootstrap with one repetition: 40 intervals × 50 exponential samples
  /// (mean 100 µs); the true p90 is 100·ln 10 µs. Coverage near 95 %, and the
  /// intervals are narrow enough to mean something.
  @Test func intervalBootstrapCoversTheTruePercentile() {
    var data = SeededGenerator(seed: 11)
    let truth = 100 * log(10.0)
    var covered = 0
    var widths = 0.0
    let trials = 80
    for trial in 0..<trials {
      let intervals = (0..<40).map { _ in
        var histogram = LatencyHistogram()
        for _ in 0..<50 {
          histogram.record(nanoseconds: UInt64(Self.exponential(&data, mean: 100_000)))
        }
        return SparseHistogram(pairs: histogram.buckets)
      }
      let estimates = IntervalBootstrap.percentileEstimates(
        cells: [intervals], percentiles: [90], scale: 1.0 / 1000, resamples: 200,
        seed: UInt64(trial))
      guard let estimate = estimates?.first else {
        Issue.record("no estimate from 40 intervals of 50 samples")
        return
      }
      #expect(estimate.method == .intervals)
      if estimate.low <= truth && truth <= estimate.high { covered += 1 }
      widths += (estimate.high - estimate.low) / truth
    }
    let rate = Double(covered) / Double(trials)
    #expect(rate >= 0.85, "coverage \(rate)")
    #expect(widths / Double(trials) < 0.3, "mean relative width \(widths / Double(trials))")
  }
}

@Suite struct StoreReadingTests {
  /// A store of the first cover-letter cell, and that cell's intervals.jsonl.
  func oneCell() throws -> (run: URL, intervals: URL) {
    let cells = Array(SyntheticStore.coverLetterCells(repetitions: 1).prefix(1))
    let run = try SyntheticStore.write(cells)
    return (run, run.appendingPathComponent("cells/\(cells[0].id)/intervals.jsonl"))
  }

  @Test func fastIntervalParserAgreesWithJSONDecoder() throws {
    let (run, url) = try oneCell()
    defer { SyntheticStore.remove(run) }
    let data = try Data(contentsOf: url)
    let fast = try #require(IntervalLineParser.parse(data))
    let slow = try RunStore.readLines(IntervalRecord.self, url: url)
    #expect(fast.count == 12)
    #expect(fast == slow)
  }

  @Test func tornLastLineIsDroppedAndOtherShapesFallBack() throws {
    let (run, url) = try oneCell()
    defer { SyntheticStore.remove(run) }
    var data = try Data(contentsOf: url)
    data.append(contentsOf: Array("{\"index\":12,\"startNano".utf8))
    try data.write(to: url)
    #expect(IntervalLineParser.parse(data) == nil)
    let store = try RunStore.load(from: run)
    #expect(store.cells[0].intervals.count == 12)
  }

  @Test func aBrokenLineIsNamedWithItsLineNumber() throws {
    let (run, url) = try oneCell()
    defer { SyntheticStore.remove(run) }
    var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    lines[2] = "{\"index\": \"two\"}"
    try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    #expect(throws: ResultsError.self) { try RunStore.load(from: run) }
    do {
      _ = try RunStore.load(from: run)
    } catch let error as ResultsError {
      #expect(error.description.hasPrefix("\(url.path):3: cannot read this results file"))
    }
  }

  @Test func aFolderWithoutManifestIsNotARun() {
    let error = #expect(throws: ResultsError.self) {
      try RunStore.load(from: URL(fileURLWithPath: "/nonexistent/run"))
    }
    #expect(
      error?.description
        == "'/nonexistent/run' is not a run folder: it has no manifest.json. Pass a folder "
        + "results/<experiment>/<run-id> written by 'pvbench run'.")
  }
}

@Suite struct MergeTests {
  @Test func denseAndSortedMergesAgree() {
    var generator = SeededGenerator(seed: 3)
    let parts = (0..<20).map { _ in
      var histogram = LatencyHistogram()
      for _ in 0..<300 {
        histogram.record(
          nanoseconds: generator.next() % 50_000_000 + 1, count: generator.next() % 3 + 1)
      }
      return SparseHistogram(pairs: histogram.buckets)
    }
    let dense = SparseHistogram.mergedDense(parts)
    var sorted = parts[0]
    for part in parts.dropFirst() { sorted = SparseHistogram.mergeTwo(sorted, part) }
    #expect(dense == sorted)
    #expect(SparseHistogram.merged(parts) == sorted)
    #expect(dense?.total == parts.reduce(0) { $0 + $1.total })
  }

  @Test func nonCanonicalValuesFallBackToTheSortedMerge() {
    // 4096 and 4097 share an HDR bucket (width 2 there): the dense merge refuses.
    let parts = (0..<10).map { SparseHistogram(pairs: [(4096 + UInt64($0 % 2), 1)]) }
    #expect(SparseHistogram.mergedDense(parts) == nil)
    let merged = SparseHistogram.merged(parts)
    #expect(merged.values == [4096, 4097])
    #expect(merged.counts == [5, 5])
  }
}

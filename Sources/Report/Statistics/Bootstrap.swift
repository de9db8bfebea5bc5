import Foundation

/// How the interval of an estimate was found.
public enum IntervalMethod: String, Codable, Sendable, CaseIterable {
  /// Order statistics of the repetitions (distribution-free): the narrowest
  /// [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] that covers the median at least 95 % of the time, or with fewer than
  /// six repetitions the range [min, max] with its exact coverage (`Estimate.coverage`).
  case repetitions
  /// Moving-block bootstrap over the measurement intervals inside one cell, the block
  /// length from the intervals' autocorrelation; within one run, so it measures no
  /// run-to-run variation.
  case intervals
  /// One repetition and the repetition method: the interval is the single value.
  case single
}

/// A point estimate with its 95 % interval, in the metric's unit.
public struct Estimate: Codable, Sendable, Equatable {
  /// The median across repetitions.
  public var value: Double
  /// Lower end of the 95 % interval.
  public var low: Double
  /// Upper end of the 95 % interval.
  public var high: Double
  /// How many repetitions (cells) the value is the median of.
  public var repetitions: Int
  /// How the interval was found.
  public var method: IntervalMethod
  /// How often an interval found this way holds the true value: exact for `.repetitions`
  /// (0.5 for the range of 2, 0.75 for 3), nominal (0.95) for `.intervals`, 0 for `.single`.
  public var coverage: Double = 0
  /// The per-cell values the median is taken of, kept for `compare`; not encoded.
  public var cellValues: [Double] = []
  /// The bootstrap replicates of the median, kept for `compare`; not encoded.
  public var replicates: [Double]
  /// A cell behind the value held fewer samples than the percentile needs (the 99.9th
  /// needs 1000): the figure is shown marked and `compare` never calls it significant.
  public var tooFewSamples = false

  enum CodingKeys: String, CodingKey {
    case value, low, high, repetitions, method, coverage, tooFewSamples
  }

  /// Creates an estimate.
  public init(
    value: Double, low: Double, high: Double, repetitions: Int, method: IntervalMethod,
    coverage: Double = 0, replicates: [Double] = [], cellValues: [Double] = []
  ) {
    self.value = value
    self.low = low
    self.high = high
    self.repetitions = repetitions
    self.method = method
    self.coverage = coverage
    self.replicates = replicates
    self.cellValues = cellValues
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    value = try container.decode(Double.self, forKey: .value)
    low = try container.decode(Double.self, forKey: .low)
    high = try container.decode(Double.self, forKey: .high)
    repetitions = try container.decode(Int.self, forKey: .repetitions)
    method = try container.decode(IntervalMethod.self, forKey: .method)
    replicates = []
    coverage = try container.decodeIfPresent(Double.self, forKey: .coverage) ?? 0
    tooFewSamples = try container.decodeIfPresent(Bool.self, forKey: .tooFewSamples) ?? false
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(value, forKey: .value)
    try container.encode(low, forKey: .low)
    try container.encode(high, forKey: .high)
    try container.encode(repetitions, forKey: .repetitions)
    try container.encode(method, forKey: .method)
    try container.encode(coverage, forKey: .coverage)
    try container.encode(tooFewSamples, forKey: .tooFewSamples)
  }
}

/// Order statistics and the percentile bootstrap.
public enum Statistics {
  /// The median of `values` (mean of the two middle values for an even count); 0 when empty.
  public static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }

  /// The `q` quantile (0…1) of ascending `sorted` values with linear interpolation.
  public static func quantile(sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let position = Swift.min(Swift.max(q, 0), 1) * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down))
    let upper = Swift.min(lower + 1, sorted.count - 1)
    let fraction = position - Double(lower)
    return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
  }

  /// The 2.5 % and 97.5 % quantiles of `replicates`.
  public static func interval95(_ replicates: [Double]) -> (low: Double, high: Double) {
    let sorted = replicates.sorted()
    return (quantile(sorted: sorted, 0.025), quantile(sorted: sorted, 0.975))
  }

  /// Ranks 1…n of `values` in their order, tied values sharing their mean rank.
  public static func ranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var result = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
      var end = start
      while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
      let rank = Double(start + end) / 2 + 1
      for index in start...end { result[order[index]] = rank }
      start = end + 1
    }
    return result
  }

  /// How often [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] of `n` values holds the median of a continuous
  /// distribution: 1 − 2·P(Binomial(n, ½) ≤ k − 1). Distribution-free; for discrete data
  /// (ties) at least this.
  public static func orderStatisticCoverage(n: Int, k: Int) -> Double {
    guard n >= 1, k >= 1, 2 * k <= n + 1 else { return 0 }
    var term: Double = pow(0.5, Double(n))  // P(B = 0)
    var below = 0.0
    for i in 0..<k {
      if i > 0 { term *= Double(n - i + 1) / Double(i) }  // P(B = i) from P(B = i - 1)
      below += term
    }
    return max(0, 1 - 2 * below)
  }

  /// The median of `values` with its distribution-free order-statistic interval.
  ///
  /// The interval is the narrowest [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] whose coverage is at least 95 %. With
  /// fewer than six values none is, and the interval is the range [min, max] with its
  /// exact coverage: 50 % for 2 values, 75 % for 3, 87.5 % for 4, 93.75 % for 5. One
  /// value gives the value itself and the method `.single`.
  public static func medianInterval(_ values: [Double]) -> Estimate {
    let sorted = values.sorted()
    let point = median(sorted)
    guard sorted.count > 1 else {
      return Estimate(
        value: point, low: point, high: point, repetitions: sorted.count, method: .single,
        cellValues: sorted)
    }
    let n = sorted.count
    var k = 1
    while 2 * (k + 1) <= n + 1 && orderStatisticCoverage(n: n, k: k + 1) >= 0.95 { k += 1 }
    return Estimate(
      value: point, low: sorted[k - 1], high: sorted[n - k], repetitions: n,
      method: .repetitions, coverage: orderStatisticCoverage(n: n, k: k), cellValues: sorted)
  }

  /// A two-sided exact permutation test (Wilcoxon–Mann–Whitney) that `a` and `b` come
  /// from the same distribution, against a shift of one of them.
  ///
  /// The statistic is the rank sum of `a` in the pooled values (mid-ranks for ties).
  /// Every split of the pooled values into groups of `a.count` and `b.count` is equally
  /// likely when the runs do not differ; `p` is the share of splits whose rank sum is at
  /// least as far from its mean as the observed one. Exact up to 50,000 splits, else
  /// 20,000 seeded random splits.
  /// - Returns: `p`, and `smallestP`: the least `p` any data of these sizes can give
  ///   (2 / C(n + m, n)). When `smallestP` exceeds the test level, no data of these sizes
  ///   could show a difference: the comparison is inconclusive, not "no change".
  public static func permutationTest(_ a: [Double], _ b: [Double], seed: UInt64)
    -> (p: Double, smallestP: Double)
  {
    let n = a.count
    let m = b.count
    guard n > 0, m > 0 else { return (1, 1) }
    var splits = 1.0
    for i in 0..<n { splits = splits * Double(m + n - i) / Double(i + 1) }
    let smallestP = min(1, 2 / splits)
    let pooled = ranks(a + b)
    let center = Double(n) * Double(n + m + 1) / 2
    let observed = abs(pooled[..<n].reduce(0, +) - center)
    func extreme(_ sum: Double) -> Bool { abs(sum - center) >= observed - 1e-9 }
    if splits <= 50_000 {
      var count = 0
      var total = 0
      var chosen = Array(0..<n)
      while true {
        if extreme(chosen.reduce(0) { $0 + pooled[$1] }) { count += 1 }
        total += 1
        // Next combination in lexicographic order.
        var i = n - 1
        while i >= 0 && chosen[i] == m + i { i -= 1 }
        if i < 0 { break }
        chosen[i] += 1
        for j in (i + 1)..<n { chosen[j] = chosen[j - 1] + 1 }
      }
      return (Double(count) / Double(total), smallestP)
    }
    var generator = SeededGenerator(seed: seed)
    var shuffled = pooled
    var count = 0
    let rounds = 20_000
    for _ in 0..<rounds {
      for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
        shuffled.swapAt(i, generator.index(below: i + 1))
      }
      if extreme(shuffled[..<n].reduce(0, +)) { count += 1 }
    }
    return (Double(count + 1) / Double(rounds + 1), smallestP)
  }
}

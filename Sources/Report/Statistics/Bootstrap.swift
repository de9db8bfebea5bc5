/// How the 95 % interval of an estimate was found.
public enum IntervalMethod: String, Codable, Sendable, CaseIterable {
  /// Percentile bootstrap over repetitions: resample the cells of a group, take the median.
  case repetitions
  /// Percentile bootstrap over the measurement intervals inside each cell, then the median
  /// across cells: honest even with one repetition, but it assumes intervals are exchangeable.
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
  /// The bootstrap replicates of the median, kept for `compare`; not encoded.
  public var replicates: [Double]
  /// A cell behind the value held fewer samples than the percentile needs (the 99.9th
  /// needs 1000): the figure is shown marked and `compare` never calls it significant.
  public var tooFewSamples = false

  enum CodingKeys: String, CodingKey {
    case value, low, high, repetitions, method, tooFewSamples
  }

  /// Creates an estimate.
  public init(
    value: Double, low: Double, high: Double, repetitions: Int, method: IntervalMethod,
    replicates: [Double] = []
  ) {
    self.value = value
    self.low = low
    self.high = high
    self.repetitions = repetitions
    self.method = method
    self.replicates = replicates
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    value = try container.decode(Double.self, forKey: .value)
    low = try container.decode(Double.self, forKey: .low)
    high = try container.decode(Double.self, forKey: .high)
    repetitions = try container.decode(Int.self, forKey: .repetitions)
    method = try container.decode(IntervalMethod.self, forKey: .method)
    replicates = []
    tooFewSamples = try container.decodeIfPresent(Bool.self, forKey: .tooFewSamples) ?? false
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(value, forKey: .value)
    try container.encode(low, forKey: .low)
    try container.encode(high, forKey: .high)
    try container.encode(repetitions, forKey: .repetitions)
    try container.encode(method, forKey: .method)
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

  /// The median of `values` with a seeded percentile-bootstrap 95 % interval over them.
  ///
  /// With one value the interval is that value and the method is `.single`.
  public static func bootstrapMedian(
    _ values: [Double], resamples: Int, seed: UInt64
  ) -> Estimate {
    let point = median(values)
    guard values.count > 1, resamples > 0 else {
      return Estimate(
        value: point, low: point, high: point, repetitions: values.count, method: .single,
        replicates: [])
    }
    var generator = SeededGenerator(seed: seed)
    var replicates: [Double] = []
    replicates.reserveCapacity(resamples)
    var draw = [Double](repeating: 0, count: values.count)
    for _ in 0..<resamples {
      for slot in draw.indices { draw[slot] = values[generator.index(below: values.count)] }
      replicates.append(median(draw))
    }
    let bounds = interval95(replicates)
    return Estimate(
      value: point, low: bounds.low, high: bounds.high, repetitions: values.count,
      method: .repetitions, replicates: replicates)
  }

  /// The bootstrap 95 % interval of `b − a` from independent replicates of two estimates.
  ///
  /// Returns nil when either estimate has no replicates (one repetition, no interval method).
  public static func differenceInterval(
    _ a: Estimate, _ b: Estimate
  ) -> (low: Double, high: Double)? {
    guard !a.replicates.isEmpty, !b.replicates.isEmpty else { return nil }
    let count = Swift.min(a.replicates.count, b.replicates.count)
    let differences = (0..<count).map { b.replicates[$0] - a.replicates[$0] }
    return interval95(differences)
  }
}

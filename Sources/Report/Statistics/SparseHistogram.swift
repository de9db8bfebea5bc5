/// A latency histogram held as its non-empty HDR buckets only.
///
/// The results store keeps each interval's histogram as `[[value, count], …]`
/// over non-empty HDR buckets (`LatencyHistogram`'s encoding), where `value` is
/// the highest value equivalent to the bucket. Merging and reading percentiles
/// on that sparse form gives exactly what the HDR histogram would give, without
/// walking a dense counts array per interval — which matters when a report
/// merges tens of thousands of intervals.
public struct SparseHistogram: Sendable, Equatable {
  /// Bucket values in nanoseconds, strictly ascending.
  public private(set) var values: [UInt64]
  /// Sample counts, one per value.
  public private(set) var counts: [UInt64]
  /// The number of samples.
  public private(set) var total: UInt64

  /// Creates an empty histogram.
  public init() {
    values = []
    counts = []
    total = 0
  }

  /// Creates a histogram from `(value, count)` pairs in any order; equal values add up.
  public init(pairs: [(value: UInt64, count: UInt64)]) {
    let sorted = pairs.filter { $0.count > 0 }.sorted { $0.value < $1.value }
    values = []
    counts = []
    total = 0
    values.reserveCapacity(sorted.count)
    counts.reserveCapacity(sorted.count)
    for pair in sorted {
      if let last = values.last, last == pair.value {
        counts[counts.count - 1] += pair.count
      } else {
        values.append(pair.value)
        counts.append(pair.count)
      }
      total += pair.count
    }
  }

  /// Creates a histogram from parallel arrays; takes them as they are when the values
  /// already ascend strictly (the store's order), otherwise sorts and combines.
  public init(values: [UInt64], counts: [UInt64]) {
    let ascending =
      values.count == counts.count
      && zip(values, values.dropFirst()).allSatisfy { $0 < $1 } && !counts.contains(0)
    if ascending {
      self.init()
      self.values = values
      self.counts = counts
      total = counts.reduce(0, +)
    } else {
      self.init(pairs: zip(values, counts).map { ($0, $1) })
    }
  }

  /// Merges histograms exactly, bucket by bucket.
  public static func merged(_ parts: [SparseHistogram]) -> SparseHistogram {
    if parts.count == 1 { return parts[0] }
    var pairs: [(value: UInt64, count: UInt64)] = []
    pairs.reserveCapacity(parts.reduce(0) { $0 + $1.values.count })
    for part in parts {
      for index in part.values.indices {
        pairs.append((part.values[index], part.counts[index]))
      }
    }
    return SparseHistogram(pairs: pairs)
  }

  /// The value at `percentile` (0–100) in nanoseconds, as HDR computes it; 0 when empty.
  ///
  /// The rank is `max(1, ⌈p⁻·N/100⌉)` where `p⁻` is `p` less one ulp, and the
  /// answer is the bucket value where the running count reaches that rank —
  /// the same rule as `Histogram.valueAtPercentile`.
  public func value(atPercentile percentile: Double) -> UInt64 {
    guard total > 0 else { return 0 }
    return Self.value(
      atPercentile: percentile, values: values, counts: counts, total: total)
  }

  /// Values at several percentiles in one pass over the buckets.
  public func values(atPercentiles percentiles: [Double]) -> [UInt64] {
    percentiles.map { value(atPercentile: $0) }
  }

  /// The HDR percentile rule over parallel value and count arrays (counts may hold zeros).
  static func value(
    atPercentile percentile: Double, values: [UInt64], counts: [UInt64], total: UInt64
  ) -> UInt64 {
    guard total > 0, !values.isEmpty else { return 0 }
    if percentile <= 0 {
      return values[counts.firstIndex { $0 > 0 } ?? 0]
    }
    if percentile >= 100 {
      return values[counts.lastIndex { $0 > 0 } ?? (values.count - 1)]
    }
    let requested = Swift.max(percentile.nextDown, 0)
    let rank = Swift.max(1, UInt64((requested * Double(total) / 100).rounded(.up)))
    var running: UInt64 = 0
    for index in values.indices {
      running += counts[index]
      if running >= rank { return values[index] }
    }
    return values[values.count - 1]
  }
}

extension SparseHistogram: Codable {
  /// Decodes `[[value, count], …]`, the store's histogram encoding.
  public init(from decoder: any Decoder) throws {
    let raw = try [[UInt64]](from: decoder)
    var pairs: [(value: UInt64, count: UInt64)] = []
    pairs.reserveCapacity(raw.count)
    for pair in raw where pair.count == 2 {
      pairs.append((pair[0], pair[1]))
    }
    self.init(pairs: pairs)
  }

  /// Encodes as `[[value, count], …]`.
  public func encode(to encoder: any Encoder) throws {
    try zip(values, counts).map { [$0, $1] }.encode(to: encoder)
  }
}

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
  ///
  /// Each part is already sorted, so parts are merged two at a time in a balanced
  /// tournament: O(n log k) with linear merges, no comparison sort.
  public static func merged(_ parts: [SparseHistogram]) -> SparseHistogram {
    var level = parts.filter { $0.total > 0 }
    guard !level.isEmpty else { return SparseHistogram() }
    if level.count > 8, let dense = mergedDense(level) { return dense }
    while level.count > 1 {
      var next: [SparseHistogram] = []
      next.reserveCapacity((level.count + 1) / 2)
      var index = 0
      while index + 1 < level.count {
        next.append(mergeTwo(level[index], level[index + 1]))
        index += 2
      }
      if index < level.count { next.append(level[index]) }
      level = next
    }
    return level[0]
  }

  /// The position of `value` in an HDR counts array with 3 significant digits
  /// (2048 sub-buckets): monotonic, and equal for values of one bucket.
  @inline(__always)
  package static func denseIndex(_ value: UInt64) -> Int {
    if value < 2048 { return Int(value) }
    let shift = (64 - value.leadingZeroBitCount) - 11
    return 2048 + (shift - 1) * 1024 + Int(value >> UInt64(shift)) - 1024
  }

  /// Merges by adding counts into a dense HDR-shaped array: linear in the input.
  ///
  /// Returns nil when two different values share a bucket (input not written by
  /// `LatencyHistogram`), so the caller falls back to the exact sorted merge.
  package static func mergedDense(_ parts: [SparseHistogram]) -> SparseHistogram? {
    let largest = parts.map { $0.values.last ?? 0 }.max() ?? 0
    let size = denseIndex(largest) + 1
    var counts = [UInt64](repeating: 0, count: size)
    var values = [UInt64](repeating: 0, count: size)
    for part in parts {
      for index in part.values.indices {
        let value = part.values[index]
        let slot = denseIndex(value)
        if counts[slot] != 0 && values[slot] != value { return nil }
        values[slot] = value
        counts[slot] += part.counts[index]
      }
    }
    var merged = SparseHistogram()
    for slot in 0..<size where counts[slot] != 0 {
      merged.values.append(values[slot])
      merged.counts.append(counts[slot])
      merged.total += counts[slot]
    }
    return merged
  }

  /// The linear merge of two sorted histograms.
  package static func mergeTwo(_ a: SparseHistogram, _ b: SparseHistogram) -> SparseHistogram {
    var values: [UInt64] = []
    var counts: [UInt64] = []
    values.reserveCapacity(a.values.count + b.values.count)
    counts.reserveCapacity(a.values.count + b.values.count)
    var i = 0
    var j = 0
    while i < a.values.count && j < b.values.count {
      let left = a.values[i]
      let right = b.values[j]
      if left < right {
        values.append(left)
        counts.append(a.counts[i])
        i += 1
      } else if right < left {
        values.append(right)
        counts.append(b.counts[j])
        j += 1
      } else {
        values.append(left)
        counts.append(a.counts[i] + b.counts[j])
        i += 1
        j += 1
      }
    }
    values.append(contentsOf: a.values[i...])
    counts.append(contentsOf: a.counts[i...])
    values.append(contentsOf: b.values[j...])
    counts.append(contentsOf: b.counts[j...])
    var merged = SparseHistogram()
    merged.values = values
    merged.counts = counts
    merged.total = a.total + b.total
    return merged
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
  package static func value(
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

import Histogram

/// A latency histogram in nanoseconds with a compact, mergeable encoding.
///
/// Wraps an HDR histogram (three significant digits, auto-resizing) so that
/// sub-microsecond samples are kept. The encoded form lists only the buckets
/// that hold samples, as `[value, count]` pairs, which is what the results
/// store keeps per interval and what the report merges across intervals.
public struct LatencyHistogram: Sendable, Equatable {
  public private(set) var hdr: Histogram<UInt64>

  /// Creates an empty histogram.
  public init() {
    hdr = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    hdr.autoResize = true
  }

  /// Records one sample of `nanoseconds`.
  @inline(__always)
  public mutating func record(nanoseconds: UInt64) {
    _ = hdr.record(nanoseconds == 0 ? 1 : nanoseconds)
  }

  /// Records `count` samples of `nanoseconds`.
  public mutating func record(nanoseconds: UInt64, count: UInt64) {
    guard count > 0 else { return }
    _ = hdr.record(nanoseconds == 0 ? 1 : nanoseconds, count: count)
  }

  /// Adds every sample of `other` to this histogram.
  public mutating func merge(_ other: LatencyHistogram) {
    guard other.count > 0 else { return }
    hdr.add(other.hdr)
  }

  /// Removes every sample.
  public mutating func reset() { hdr.reset() }

  /// The number of samples.
  public var count: UInt64 { hdr.totalCount }

  /// The smallest sample, or 0 when empty.
  public var minNanoseconds: UInt64 { count == 0 ? 0 : hdr.min }

  /// The largest sample, or 0 when empty.
  public var maxNanoseconds: UInt64 { count == 0 ? 0 : hdr.max }

  /// The mean in nanoseconds, or 0 when empty.
  public var meanNanoseconds: Double { count == 0 ? 0 : hdr.mean }

  /// The value at `percentile` (0–100), or 0 when empty.
  public func nanoseconds(atPercentile percentile: Double) -> UInt64 {
    count == 0 ? 0 : hdr.valueAtPercentile(percentile)
  }

  /// The non-empty buckets as `(value, count)` pairs, ascending.
  public var buckets: [(value: UInt64, count: UInt64)] {
    hdr.recordedValues().map { ($0.value, $0.count) }
  }

  public static func == (lhs: LatencyHistogram, rhs: LatencyHistogram) -> Bool {
    lhs.buckets.elementsEqual(rhs.buckets) { $0 == $1 }
  }
}

extension LatencyHistogram: Codable {
  /// Encodes as `[[value, count], …]` over non-empty buckets only.
  public init(from decoder: any Decoder) throws {
    self.init()
    var container = try decoder.unkeyedContainer()
    while !container.isAtEnd {
      var pair = try container.nestedUnkeyedContainer()
      let value = try pair.decode(UInt64.self)
      let count = try pair.decode(UInt64.self)
      record(nanoseconds: value, count: count)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.unkeyedContainer()
    for bucket in buckets {
      var pair = container.nestedUnkeyedContainer()
      try pair.encode(bucket.value)
      try pair.encode(bucket.count)
    }
  }
}

/// schbench's own histogram and percentile table, so the printed tables hold the numbers
/// schbench would print for the same samples.
///
/// schbench keeps whole microseconds in 19 groups of 256 buckets: values below 512 have a
/// bucket each; above, a bucket spans 1/256 of its power of two and prints as its midpoint
/// (so a printed percentile can exceed the printed max). Its table walks the buckets once
/// for the percentiles 20, 50, 90, 99 and 99.9 and prints a subset; each line's sample count
/// is the samples since the previous percentile *computed*, so the 50.0th line of a latency
/// table leaves out the samples up to the (unprinted) 20th.
public struct SchbenchTable: Sendable, Equatable {
  static let bucketBits = 8
  static let bucketsPerGroup = 1 << bucketBits
  static let groups = 19
  static let bucketCount = groups * bucketsPerGroup
  /// The percentiles schbench computes, in order.
  public static let computed: [Double] = [20, 50, 90, 99, 99.9]

  /// Samples per bucket.
  public private(set) var counts: [UInt64]
  /// Samples recorded.
  public private(set) var total: UInt64 = 0
  /// schbench's min and max: max is the largest sample; min is updated when it is 0 or the
  /// sample is smaller, so a 0 is replaced by the next sample.
  public private(set) var minimum: UInt32 = 0
  public private(set) var maximum: UInt32 = 0

  /// An empty table.
  public init() { counts = Array(repeating: 0, count: SchbenchTable.bucketCount) }

  /// The bucket of `value` µs.
  static func bucket(of value: UInt32) -> Int {
    guard value > 0 else { return 0 }
    let msb = 31 - value.leadingZeroBitCount
    if msb <= bucketBits { return Int(value) }
    let errorBits = msb - bucketBits
    let base = (errorBits + 1) << bucketBits
    let offset = Int((value >> UInt32(errorBits)) & UInt32(bucketsPerGroup - 1))
    return min(base + offset, bucketCount - 1)
  }

  /// The value schbench prints for `bucket`: the value itself below 512, else the midpoint
  /// of the bucket's range, truncated to a whole µs.
  static func value(of bucket: Int) -> UInt32 {
    if bucket < bucketsPerGroup << 1 { return UInt32(bucket) }
    let errorBits = (bucket >> bucketBits) - 1
    let base = UInt32(1) << UInt32(errorBits + bucketBits)
    let k = Double(bucket % bucketsPerGroup)
    return base + UInt32((k + 0.5) * Double(UInt32(1) << UInt32(errorBits)))
  }

  /// Records `count` samples of `value` µs.
  public mutating func record(_ value: UInt32, count: UInt64 = 1) {
    guard count > 0 else { return }
    if value > maximum { maximum = value }
    if minimum == 0 || value < minimum { minimum = value }
    counts[SchbenchTable.bucket(of: value)] += count
    total += count
  }

  /// A nanosecond histogram in whole µs (rounded to the nearest), bucket by bucket.
  public init(nanoseconds histogram: LatencyHistogram) {
    self.init()
    for bucket in histogram.buckets {
      let micro = (bucket.value + 500) / 1000
      let clamped = UInt32(min(micro, UInt64(UInt32.max)))
      counts[SchbenchTable.bucket(of: clamped)] += bucket.count
      total += bucket.count
    }
    if histogram.count > 0 {
      minimum = UInt32(min((histogram.minNanoseconds + 500) / 1000, UInt64(UInt32.max)))
      maximum = UInt32(min((histogram.maxNanoseconds + 500) / 1000, UInt64(UInt32.max)))
    }
  }

  /// Per-second RPS samples in the order taken, each truncated to a whole number as
  /// schbench stores them (min follows schbench's rule, see `minimum`).
  public init(rpsSamples: [Double]) {
    self.init()
    for sample in rpsSamples {
      record(sample.isFinite && sample > 0 ? UInt32(min(sample, Double(UInt32.max))) : 0)
    }
  }

  /// The five computed percentiles: value and samples since the previous one.
  public var lines: [PercentileLine] {
    let thresholds = SchbenchTable.computed.map { $0 / 100 * Double(total) }
    var values: [UInt64] = []
    var cumulative: [UInt64] = []
    var sum: UInt64 = 0
    var next = 0
    scan: for (bucket, count) in counts.enumerated() {
      sum += count
      while Double(sum) >= thresholds[next] {
        values.append(UInt64(SchbenchTable.value(of: bucket)))
        cumulative.append(sum)
        if next == thresholds.count - 1 { break scan }
        next += 1
      }
    }
    return values.indices.map { index in
      PercentileLine(
        percentile: SchbenchTable.computed[index], value: values[index],
        samples: cumulative[index] - (index == 0 ? 0 : cumulative[index - 1]))
    }
  }
}

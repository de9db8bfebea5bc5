#if canImport(Glibc)
  import Glibc
#endif

/// One line of a schbench percentile table: the value at a percentile and the samples
/// between the previous line's percentile and this one.
public struct PercentileLine: Codable, Sendable, Equatable {
  /// The percentile, 0–100.
  public var percentile: Double
  /// The smallest recorded value with at least `percentile` % of samples at or below it.
  public var value: UInt64
  /// Samples above the previous line's value up to this one (the first line: all up to it).
  public var samples: UInt64

  /// Creates a line.
  public init(percentile: Double, value: UInt64, samples: UInt64) {
    self.percentile = percentile
    self.value = value
    self.samples = samples
  }
}

/// schbench's percentile arithmetic and its exact text layout.
public enum SchbenchReport {
  /// The percentiles of the latency tables; 99.0 carries the `*`.
  public static let latencyPercentiles: [Double] = [50, 90, 99, 99.9]
  /// The percentiles of the RPS table; 50.0 carries the `*`.
  public static let rpsPercentiles: [Double] = [20, 50, 90]

  /// Computes percentile lines over ascending `(value, count)` buckets, as schbench does:
  /// the value of the first bucket whose cumulative count reaches `p / 100 × total`.
  public static func percentiles(
    of buckets: [(value: UInt64, count: UInt64)], at percentiles: [Double]
  ) -> [PercentileLine] {
    let total = buckets.reduce(UInt64(0)) { $0 + $1.count }
    guard total > 0 else { return [] }
    var lines: [PercentileLine] = []
    var cumulative: UInt64 = 0
    var bucketIndex = 0
    var previousCumulative: UInt64 = 0
    for percentile in percentiles {
      // The relative slack absorbs rounding (99.9 / 100 × 1000 is 999.0000000000001).
      let threshold = percentile / 100 * Double(total) * (1 - 1e-12)
      while bucketIndex < buckets.count
        && (Double(cumulative) < threshold || cumulative == 0)
      {
        cumulative += buckets[bucketIndex].count
        bucketIndex += 1
      }
      let value = buckets[max(0, bucketIndex - 1)].value
      lines.append(
        PercentileLine(
          percentile: percentile, value: value, samples: cumulative - previousCumulative))
      previousCumulative = cumulative
    }
    return lines
  }

  /// Formats one percentile line: `\t* 99.0th: 21         (11000 samples)`.
  public static func line(_ line: PercentileLine, starred: Bool, scale: UInt64 = 1) -> String {
    let marker = starred ? "* " : "  "
    let label = pad(format1(line.percentile) + "th", width: 6, left: false)
    let value = pad(String(scaled(line.value, scale)), width: 10, left: true)
    return "\t\(marker)\(label): \(value) (\(line.samples) samples)"
  }

  /// Formats a whole block (header, percentile lines, `min=, max=`) with a trailing newline.
  public static func block(
    label: String, unit: String, runtimeSeconds: Int, totalSamples: UInt64,
    lines: [PercentileLine], star: Double, minimum: UInt64, maximum: UInt64, scale: UInt64 = 1
  ) -> String {
    var text =
      "\(label) percentiles (\(unit)) runtime \(runtimeSeconds) (s) "
      + "(\(totalSamples) total samples)\n"
    for entry in lines {
      text += line(entry, starred: entry.percentile == star, scale: scale) + "\n"
    }
    text += "\t  min=\(scaled(minimum, scale)), max=\(scaled(maximum, scale))\n"
    return text
  }

  /// The `Wakeup Latencies` or `Request Latencies` block of a nanosecond histogram, in µs.
  public static func latencyBlock(
    _ label: String, histogram: LatencyHistogram, runtimeSeconds: Int
  ) -> String {
    block(
      label: label, unit: "usec", runtimeSeconds: runtimeSeconds,
      totalSamples: histogram.count,
      lines: percentiles(of: histogram.buckets, at: latencyPercentiles), star: 99,
      minimum: histogram.minNanoseconds, maximum: histogram.maxNanoseconds, scale: 1000)
  }

  /// The `RPS` block of per-second request counts.
  public static func rpsBlock(samples: [Double], runtimeSeconds: Int) -> String {
    let values = samples.map { UInt64(max(0, $0.rounded())) }.sorted()
    var buckets: [(value: UInt64, count: UInt64)] = []
    for value in values {
      if let last = buckets.last, last.value == value {
        buckets[buckets.count - 1].count += 1
      } else {
        buckets.append((value, 1))
      }
    }
    return block(
      label: "RPS", unit: "requests", runtimeSeconds: runtimeSeconds,
      totalSamples: UInt64(values.count),
      lines: percentiles(of: buckets, at: rpsPercentiles), star: 50,
      minimum: values.first ?? 0, maximum: values.last ?? 0)
  }

  /// The three blocks schbench prints, for a cumulative result.
  public static func blocks(_ result: SchbenchResult, runtimeSeconds: Int) -> String {
    latencyBlock("Wakeup Latencies", histogram: result.wakeup, runtimeSeconds: runtimeSeconds)
      + latencyBlock(
        "Request Latencies", histogram: result.request, runtimeSeconds: runtimeSeconds)
      + rpsBlock(samples: result.rpsSamples, runtimeSeconds: runtimeSeconds)
  }

  /// The final report: the three blocks then `average rps: 12345.67`.
  public static func final(_ result: SchbenchResult) -> String {
    blocks(result, runtimeSeconds: Int(result.runtimeSeconds.rounded()))
      + "average rps: \(format2(result.averageRPS))\n"
  }

  /// Nanoseconds to µs, rounded to the nearest microsecond (schbench truncates its
  /// gettimeofday deltas; rounding is the unbiased choice for nanosecond samples).
  static func scaled(_ value: UInt64, _ scale: UInt64) -> UInt64 {
    scale == 1 ? value : (value + scale / 2) / scale
  }

  static func format1(_ value: Double) -> String { cFormat("%.1f", value) }
  static func format2(_ value: Double) -> String { cFormat("%.2f", value) }

  private static func cFormat(_ format: String, _ value: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  private static func pad(_ text: String, width: Int, left: Bool) -> String {
    guard text.count < width else { return text }
    let spaces = String(repeating: " ", count: width - text.count)
    return left ? text + spaces : spaces + text
  }
}

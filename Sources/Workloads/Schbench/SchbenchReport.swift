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

  /// Formats one percentile line as schbench does (`\t%s%2.1fth: %-10u (%lu samples)`).
  public static func line(_ line: PercentileLine, starred: Bool) -> String {
    let marker = starred ? "* " : "  "
    let label = pad(format1(line.percentile) + "th", width: 6, left: false)
    let value = pad(String(line.value), width: 10, left: true)
    return "\t\(marker)\(label): \(value) (\(line.samples) samples)"
  }

  /// A whole block: the header, the lines of `shown` percentiles (schbench computes five
  /// and prints a subset), and `min=, max=`, with a trailing newline.
  public static func block(
    label: String, unit: String, runtimeSeconds: Int, table: SchbenchTable, shown: [Double],
    star: Double
  ) -> String {
    var text =
      "\(label) percentiles (\(unit)) runtime \(runtimeSeconds) (s) "
      + "(\(table.total) total samples)\n"
    for entry in table.lines where shown.contains(entry.percentile) {
      text += line(entry, starred: entry.percentile == star) + "\n"
    }
    text += "\t  min=\(table.minimum), max=\(table.maximum)\n"
    return text
  }

  /// The `Wakeup Latencies` or `Request Latencies` block of a nanosecond histogram, in µs.
  public static func latencyBlock(
    _ label: String, histogram: LatencyHistogram, runtimeSeconds: Int
  ) -> String {
    block(
      label: label, unit: "usec", runtimeSeconds: runtimeSeconds,
      table: SchbenchTable(nanoseconds: histogram), shown: latencyPercentiles, star: 99)
  }

  /// The `RPS` block of the per-second request rates, in the order they were taken.
  public static func rpsBlock(samples: [Double], runtimeSeconds: Int) -> String {
    block(
      label: "RPS", unit: "requests", runtimeSeconds: runtimeSeconds,
      table: SchbenchTable(rpsSamples: samples), shown: rpsPercentiles, star: 50)
  }

  /// The three blocks schbench prints, for a cumulative result.
  public static func blocks(_ result: SchbenchResult, runtimeSeconds: Int) -> String {
    latencyBlock("Wakeup Latencies", histogram: result.wakeup, runtimeSeconds: runtimeSeconds)
      + latencyBlock(
        "Request Latencies", histogram: result.request, runtimeSeconds: runtimeSeconds)
      + rpsBlock(samples: result.rpsSamples, runtimeSeconds: runtimeSeconds)
  }

  /// `sched delay: message 12 (usec) worker 34 (usec)`: the mean run-queue wait per
  /// scheduling of the message threads and of the workers, from their schedstat.
  public static func schedDelayLine(_ result: SchbenchResult) -> String {
    "sched delay: message \(result.messageSchedDelayNanoseconds / 1000) (usec) "
      + "worker \(result.workerSchedDelayNanoseconds / 1000) (usec)\n"
  }

  /// What schbench prints every `-i` seconds: the three blocks at the whole seconds since
  /// the start, `sched delay:`, and `current rps:` (the last second's rate).
  public static func progress(_ result: SchbenchResult, elapsedSeconds: Int) -> String {
    blocks(result, runtimeSeconds: elapsedSeconds) + schedDelayLine(result)
      + "current rps: \(format2(result.currentRPS))\n"
  }

  /// The final report: the three blocks at `-r`, `average rps:`, then `sched delay:`.
  public static func final(_ result: SchbenchResult, runtimeSeconds: Int) -> String {
    blocks(result, runtimeSeconds: runtimeSeconds)
      + "average rps: \(format2(result.averageRPS))\n" + schedDelayLine(result)
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

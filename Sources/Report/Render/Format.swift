import Foundation

/// Number and label formatting shared by every renderer.
public enum Format {
  /// A latency in µs: whole numbers from 10 µs up (as schbench prints), one decimal below.
  public static func micros(_ value: Double) -> String {
    value >= 10 ? String(format: "%.0f", value) : String(format: "%.1f", value)
  }

  /// `lo-hi` in µs.
  public static func range(_ estimate: Estimate) -> String {
    "\(micros(estimate.low))-\(micros(estimate.high))"
  }

  /// `value [lo, hi]`, or `value` alone when the interval is the single value.
  public static func withInterval(_ estimate: Estimate, _ format: (Double) -> String) -> String {
    estimate.method == .single
      ? format(estimate.value)
      : "\(format(estimate.value)) [\(format(estimate.low)), \(format(estimate.high))]"
  }

  /// schbench's row label: `50.0th`, `99.9th`, `99.99th`.
  public static func percentileLabel(_ percentile: Double) -> String {
    percentileKey(percentile) + "th"
  }

  /// The store's percentile key: `50.0`, `99.9`, `99.99`.
  public static func percentileKey(_ percentile: Double) -> String {
    let tenths = percentile * 10
    if tenths == tenths.rounded() { return String(format: "%.1f", percentile) }
    var text = String(format: "%.4f", percentile)
    while text.hasSuffix("0") { text.removeLast() }
    return text
  }

  /// `p99.9` style, used outside schbench tables.
  public static func percentileName(_ percentile: Double) -> String {
    "p" + percentileKey(percentile).replacingOccurrences(of: ".0", with: "")
  }

  /// A rate with no decimals.
  public static func rate(_ value: Double) -> String { String(format: "%.0f", value) }

  /// A percentage with one decimal.
  public static func percent(_ value: Double) -> String { String(format: "%.1f%%", value) }

  /// Milliseconds: one decimal below 100, whole above.
  public static func millis(_ value: Double) -> String {
    value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
  }

  /// A signed percentage change, e.g. `+12.30%`.
  public static func change(_ fraction: Double) -> String {
    String(format: "%+.2f%%", fraction * 100)
  }
}

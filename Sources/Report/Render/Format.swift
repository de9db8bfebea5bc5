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

  /// A duration for prose: `1 s`, `2.5 s`, `500 ms`.
  public static func duration(milliseconds: Int) -> String {
    guard milliseconds >= 1000 else { return "\(milliseconds) ms" }
    return milliseconds % 1000 == 0
      ? "\(milliseconds / 1000) s" : String(format: "%g s", Double(milliseconds) / 1000)
  }

  /// `-` for no data: a table never shows a number that was not measured.
  public static let noData = "-"

  /// Follows a figure computed from fewer samples than its percentile needs.
  public static let thinMark = "?"

  /// A latency in µs, `?` after it when too few samples hold it, `-` when there is none.
  public static func micros(_ estimate: Estimate?) -> String {
    estimate.map { micros($0.value) + ($0.tooFewSamples ? thinMark : "") } ?? noData
  }

  /// A coverage as a percentage: `75 %`, `87.5 %`, `93.8 %`.
  public static func coverage(_ fraction: Double) -> String {
    let percent = (fraction * 1000).rounded() / 10
    return percent == percent.rounded()
      ? String(format: "%.0f %%", percent) : String(format: "%.1f %%", percent)
  }

  /// A rate with no decimals.
  public static func rate(_ value: Double) -> String { String(format: "%.0f", value) }

  /// A percentage with one decimal.
  public static func percent(_ value: Double) -> String { String(format: "%.1f%%", value) }

  /// A whole percentage: `98%`.
  public static func wholePercent(_ value: Double) -> String { String(format: "%.0f%%", value) }

  /// Milliseconds: one decimal below 100, whole above.
  public static func millis(_ value: Double) -> String {
    value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
  }

  /// A signed percentage change, e.g. `+12.30%`.
  public static func change(_ fraction: Double) -> String {
    String(format: "%+.2f%%", fraction * 100)
  }
}

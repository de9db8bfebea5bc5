/// A percentile (0–100) and the three ways pvbench writes it.
///
/// The results key (`"99.9"`) names a figure in a cell's summary, `expect:` tables and CSV;
/// the label (`99.9th`) is schbench's row title; the name (`p99.9`) is used everywhere
/// else. Every form keeps the digits the percentile has, up to four decimals, so 99.99
/// never turns into `100.0` and 99.05 never into `p995`.
public struct PercentileKey: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// The percentile, 0–100.
  public var value: Double

  /// Wraps a percentile (0–100).
  public init(_ value: Double) {
    self.value = value
  }

  /// Parses a results key or a label: `99.9`, `99.9th`; nil for anything else.
  public init?(key text: String) {
    let number = text.hasSuffix("th") ? String(text.dropLast(2)) : text
    guard let value = Double(number), value.isFinite else { return nil }
    self.value = value
  }

  /// The results key: at least one decimal, at most four, no trailing zeros
  /// (`50.0`, `99.9`, `99.99`, `99.05`).
  public var key: String {
    // Ten-thousandths as an integer, so the digits are exact rather than a binary
    // fraction printed and trimmed.
    let scaled = (value * 10_000).rounded()
    guard scaled.magnitude < 1e15 else { return "\(value)" }
    let sign = scaled < 0 ? "-" : ""
    let whole = Int64(scaled.magnitude) / 10_000
    var fraction = String(Int64(scaled.magnitude) % 10_000)
    fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
    while fraction.count > 1 && fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(sign)\(whole).\(fraction)"
  }

  /// schbench's row label: `50.0th`, `99.9th`, `99.99th`.
  public var label: String { key + "th" }

  /// The name outside schbench tables: `p50`, `p99.9`, `p99.05`.
  public var name: String {
    let key = key
    return "p" + (key.hasSuffix(".0") ? String(key.dropLast(2)) : key)
  }

  /// The results key.
  public var description: String { key }

  public static func < (lhs: PercentileKey, rhs: PercentileKey) -> Bool {
    lhs.value < rhs.value
  }

  /// Decodes the results key (`"99.9"`).
  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let parsed = PercentileKey(key: text) else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "'\(text)' is not a percentile such as '99.9'"))
    }
    self = parsed
  }

  /// Encodes the results key (`"99.9"`).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(key)
  }
}

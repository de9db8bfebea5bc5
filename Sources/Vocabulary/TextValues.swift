/// A value written as text in experiment files (`10s`, `5%`, `512M`) and stored the same
/// way in the resolved experiment: it encodes as its description and decodes by parsing.
package protocol TextCodable: Codable, CustomStringConvertible {
  init?(parsing text: String)
}

extension TextCodable {
  package init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = Self(parsing: text) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not valid here"))
    }
    self = value
  }

  package func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

/// A duration written `500ms`, `10s`, `2m`, `1h` or `100us` (`µs` too): the one duration
/// grammar of experiment files and of every command-line option that takes a duration.
package struct DurationValue: Sendable, Hashable, Comparable, TextCodable {
  package var nanoseconds: UInt64

  package init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
  package init(seconds: Double) { nanoseconds = UInt64(seconds * 1e9) }

  private static let units: [(suffix: String, nanoseconds: UInt64)] = [
    ("ns", 1), ("µs", 1_000), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
    ("m", 60_000_000_000), ("h", 3_600_000_000_000),
  ]

  /// Parses a number followed by a unit; nil for anything else (a bare number included,
  /// because `10` could mean seconds or milliseconds and guessing hides mistakes).
  package init?(parsing text: String) {
    let text = text.trimmingWhitespace()
    guard let split = text.firstIndex(where: { !($0.isNumber || $0 == ".") }) else {
      return nil
    }
    let number = text[..<split]
    let unit = text[split...]
    guard let value = Double(number), value >= 0, value.isFinite,
      let scale = Self.units.first(where: { $0.suffix == unit })?.nanoseconds
    else { return nil }
    let total = value * Double(scale)
    guard total < 1e18 else { return nil }
    nanoseconds = UInt64(total.rounded())
  }

  package var seconds: Double { Double(nanoseconds) / 1e9 }
  package var duration: Duration { .nanoseconds(Int64(nanoseconds)) }

  /// The shortest exact form: `2m`, `90s`, `500ms`.
  package var description: String {
    if nanoseconds == 0 { return "0s" }
    for unit in Self.units.reversed() where nanoseconds % unit.nanoseconds == 0 {
      return "\(nanoseconds / unit.nanoseconds)\(unit.suffix)"
    }
    return "\(nanoseconds)ns"
  }

  package static func < (lhs: DurationValue, rhs: DurationValue) -> Bool {
    lhs.nanoseconds < rhs.nanoseconds
  }
}

/// A percentage written `5%` (or `2.5%`).
package struct Percentage: Sendable, Hashable, TextCodable {
  /// 5 for `5%`.
  package var percent: Double

  package init(percent: Double) { self.percent = percent }

  package init?(parsing text: String) {
    let text = text.trimmingWhitespace()
    guard text.hasSuffix("%"), let value = Double(text.dropLast()), value.isFinite,
      value >= 0
    else { return nil }
    percent = value
  }

  package var fraction: Double { percent / 100 }

  package var description: String {
    percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
  }
}

/// A size written `512M`, `2G`, `256K` (powers of 1024, as QEMU reads them).
package struct ByteSize: Sendable, Hashable, TextCodable {
  package var bytes: UInt64

  package init(bytes: UInt64) { self.bytes = bytes }

  private static let units: [(suffix: String, bytes: UInt64)] = [
    ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40),
  ]

  package init?(parsing text: String) {
    var text = text.trimmingWhitespace().uppercased()
    if text.hasSuffix("IB") { text.removeLast(2) } else if text.hasSuffix("B") { text.removeLast() }
    guard let unit = Self.units.first(where: { text.hasSuffix($0.suffix) }),
      let value = UInt64(text.dropLast()), value > 0, value < (1 << 20)
    else { return nil }
    bytes = value * unit.bytes
  }

  package var megabytes: UInt64 { bytes >> 20 }

  package var description: String {
    for unit in Self.units.reversed() where bytes % unit.bytes == 0 {
      return "\(bytes / unit.bytes)\(unit.suffix)"
    }
    return "\(bytes)"
  }
}

// `CPUSelection` (a cpulist, `non-entitled` or `all`, Vocabulary/CPUSelection.swift) is
// what a mode request carries to the agent; experiment files store it as its text.
extension CPUSelection: TextCodable {
  package init?(parsing text: String) { self.init(text.trimmingWhitespace()) }
}

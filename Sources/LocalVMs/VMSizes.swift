/// Parses the sizes and durations of the `vm` command line (`512M`, `1G`, `60s`, `2m`).
package enum VMSizes {
  /// `512M` → 512, `1G` → 1024, `256` → 256 (MiB); nil for anything else or zero.
  package static func mebibytes(_ text: String) -> Int? {
    let upper = text.uppercased()
    let factor: Int
    var digits = Substring(upper)
    if upper.hasSuffix("G") {
      factor = 1024
      digits = digits.dropLast()
    } else if upper.hasSuffix("M") {
      factor = 1
      digits = digits.dropLast()
    } else {
      factor = 1
    }
    guard let value = Int(digits), value > 0 else { return nil }
    return value * factor
  }

  /// `500ms`, `60s`, `2m` → a positive `Duration`; nil for anything else.
  package static func duration(_ text: String) -> Duration? {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
    for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
      guard let value = Int64(text.dropLast(suffix.count)), value > 0 else { return nil }
      return .milliseconds(value * milliseconds)
    }
    return nil
  }
}

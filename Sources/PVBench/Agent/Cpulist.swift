import Foundation

/// Parses and formats kernel cpulists such as `0-3,8`.
enum Cpulist {
  /// Parses a cpulist (`0-3,8`, empty for none) into sorted, unique CPU numbers.
  ///
  /// - Returns: nil when the text is not a cpulist.
  static func parse(_ text: String) -> [Int]? {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty { return [] }
    var cpus = Set<Int>()
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
      guard bounds.count == 1 || bounds.count == 2,
        let low = Int(bounds[0].trimmingCharacters(in: .whitespaces)), low >= 0
      else { return nil }
      var high = low
      if bounds.count == 2 {
        guard let value = Int(bounds[1].trimmingCharacters(in: .whitespaces)), value >= low
        else { return nil }
        high = value
      }
      guard high - low < 1 << 16 else { return nil }
      for cpu in low...high { cpus.insert(cpu) }
    }
    return cpus.sorted()
  }

  /// Formats CPU numbers as the kernel does: ascending ranges joined by commas.
  static func format(_ cpus: some Sequence<Int>) -> String {
    let sorted = Set(cpus).sorted()
    var parts: [String] = []
    var index = 0
    while index < sorted.count {
      var end = index
      while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
      parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
      index = end + 1
    }
    return parts.joined(separator: ",")
  }
}

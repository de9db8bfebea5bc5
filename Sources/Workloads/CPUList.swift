/// The kernel's cpulist syntax (`0-3,8,10-11`), as in /sys/devices/system/cpu/online.
public enum CPUList {
  /// Parses a cpulist into ascending, unique CPU numbers; nil when the text is not a cpulist.
  public static func parse(_ text: String) -> [Int]? {
    let trimmed = text.trimmingWhitespace()
    guard !trimmed.isEmpty else { return nil }
    var cpus = Set<Int>()
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
      guard bounds.count == 1 || bounds.count == 2,
        let low = Int(bounds[0]), low >= 0,
        let high = bounds.count == 2 ? Int(bounds[1]) : low, high >= low, high < 65536
      else { return nil }
      cpus.formUnion(low...high)
    }
    return cpus.sorted()
  }

  /// Formats CPU numbers as a compact cpulist (`0-3,8`).
  public static func format(_ cpus: [Int]) -> String {
    let sorted = Array(Set(cpus)).sorted()
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

extension String {
  func trimmingWhitespace() -> String {
    var slice = Substring(self)
    while let first = slice.first, first.isWhitespace { slice.removeFirst() }
    while let last = slice.last, last.isWhitespace { slice.removeLast() }
    return String(slice)
  }
}

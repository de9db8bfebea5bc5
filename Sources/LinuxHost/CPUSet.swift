/// A set of CPU numbers, read and written in the kernel's cpulist notation (`0-3,8`).
///
/// The one cpulist parser of the tool: sysfs files, cgroup files, experiment files,
/// schbench's `-M`/`-W` and the agent protocol all go through it.
///
/// The kernel prints lists this way in `/sys/devices/system/cpu/online` and
/// accepts them in cpuset files; an empty list is the empty string.
public struct CPUSet: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The CPUs, ascending, without duplicates.
  public let cpus: [Int]

  /// Creates a list from any CPU numbers; sorts and removes duplicates.
  public init<S: Sequence>(_ cpus: S) where S.Element == Int {
    self.cpus = Array(Set(cpus)).sorted()
  }

  /// Parses `0-3,8,10-11`; whitespace around the text (a trailing newline) is ignored.
  /// - Returns: nil when the text is not a cpulist (a reversed range, a negative
  ///   number or a stray character).
  public init?(parsing text: String) {
    let trimmed = text.trimmingWhitespace()
    if trimmed.isEmpty {
      self.init([Int]())
      return
    }
    var result: [Int] = []
    for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
      guard bounds.count == 1 || bounds.count == 2,
        let low = Int(bounds[0]), low >= 0,
        let high = bounds.count == 2 ? Int(bounds[1]) : low, high >= low
      else { return nil }
      guard high - low < 1 << 16 else { return nil }
      result.append(contentsOf: low...high)
    }
    self.init(result)
  }

  /// Parses a cpulist into ascending, unique CPU numbers; nil when the text is empty or
  /// not a cpulist (the form schbench's -M/-W flags want).
  public static func parse(_ text: String) -> [Int]? {
    guard let list = CPUSet(parsing: text), !list.isEmpty else { return nil }
    return list.cpus
  }

  /// Parses a cpulist into ascending, unique CPU numbers (empty for the empty string).
  /// - Returns: nil when the text is not a cpulist.
  public static func cpus(parsing text: String) -> [Int]? { CPUSet(parsing: text)?.cpus }

  /// Formats CPU numbers as a compact cpulist (`0-3,8`).
  public static func format(_ cpus: some Sequence<Int>) -> String { CPUSet(cpus).description }

  public var isEmpty: Bool { cpus.isEmpty }
  public var count: Int { cpus.count }

  public func contains(_ cpu: Int) -> Bool { cpus.contains(cpu) }

  /// The CPUs of `self` that are not in `other`.
  public func subtracting(_ other: CPUSet) -> CPUSet {
    CPUSet(Set(cpus).subtracting(other.cpus))
  }

  /// The kernel's notation: every run of consecutive CPUs as `a-b`.
  public var description: String {
    var parts: [String] = []
    var index = 0
    while index < cpus.count {
      var end = index
      while end + 1 < cpus.count && cpus[end + 1] == cpus[end] + 1 { end += 1 }
      parts.append(end == index ? "\(cpus[index])" : "\(cpus[index])-\(cpus[end])")
      index = end + 1
    }
    return parts.joined(separator: ",")
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let list = CPUSet(parsing: text) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a cpulist"))
    }
    self = list
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(description)
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces, tabs and newlines.
  package func trimmingWhitespace() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }),
      let last = lastIndex(where: { !isSpace($0) })
    else { return "" }
    return String(self[first...last])
  }
}

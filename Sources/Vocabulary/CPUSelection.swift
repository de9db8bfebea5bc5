import LinuxHost

/// A set of CPUs as experiment files write it.
package enum CPUSelection: Sendable, Hashable, CustomStringConvertible {
  case list([Int])
  /// Whole cores beyond the entitled ones, highest-numbered first.
  case nonEntitled
  case all

  /// Parses `0-3,8`, `non-entitled` or `all`; nil otherwise.
  package init?(_ text: String) {
    switch text {
    case "non-entitled": self = .nonEntitled
    case "all": self = .all
    default:
      guard let cpus = CPUSet.cpus(parsing: text) else { return nil }
      self = .list(cpus)
    }
  }

  package var description: String {
    switch self {
    case .list(let cpus): CPUSet.format(cpus)
    case .nonEntitled: "non-entitled"
    case .all: "all"
    }
  }

  /// The CPUs, in the order they are given up (highest-numbered core first, all its siblings).
  ///
  /// - Parameters:
  ///   - cores: SMT sibling groups of the host.
  ///   - entitledCores: cores kept for `non-entitled`.
  /// - Returns: nil when `non-entitled` has no entitlement to work from.
  package func resolve(cores: [[Int]], entitledCores: Int?) -> [Int]? {
    let ordered = cores.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
    switch self {
    case .list(let cpus): return cpus.sorted(by: >)
    case .all: return ordered.flatMap { $0 }.sorted(by: >)
    case .nonEntitled:
      guard let entitledCores else { return nil }
      return ordered.dropFirst(max(0, entitledCores)).reversed().flatMap { $0.sorted(by: >) }
    }
  }
}

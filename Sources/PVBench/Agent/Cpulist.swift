import Workloads

/// Kernel cpulists such as `0-3,8`, as plain arrays for the agent's code.
///
/// One parser serves the whole tool: this delegates to `Workloads.CPUList`.
enum Cpulist {
  /// Parses a cpulist (`0-3,8`, empty for none) into sorted, unique CPU numbers.
  ///
  /// - Returns: nil when the text is not a cpulist.
  static func parse(_ text: String) -> [Int]? { CPUList(parsing: text)?.cpus }

  /// Formats CPU numbers as the kernel does: ascending ranges joined by commas.
  static func format(_ cpus: some Sequence<Int>) -> String { CPUList(cpus).description }
}

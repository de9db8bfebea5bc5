/// `/proc/cpuinfo`: the one parser of it.
package enum CPUInfo {
  /// The CPU model: the first `model name` (x86, arm64 with it), else `cpu` (powerpc:
  /// `POWER10 (architected), altivec supported`), else `Processor`; nil when none is there.
  package static func model(parsing text: String) -> String? {
    var fallback: String?
    for line in text.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let key = line[..<colon].trimmingCharacters(in: .whitespaces)
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      guard !value.isEmpty else { continue }
      if key == "model name" { return value }
      if fallback == nil && (key == "cpu" || key == "Processor") { fallback = value }
    }
    return fallback
  }
}

extension HostPaths {
  /// This host's CPU model from `/proc/cpuinfo`, or nil when it names none.
  package func cpuModel() -> String? {
    read("/proc/cpuinfo").flatMap(CPUInfo.model(parsing:))
  }
}

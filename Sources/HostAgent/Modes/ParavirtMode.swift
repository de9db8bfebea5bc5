import AgentProtocol
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

// Paravirt: the v3 series' sysfs cpulist, or the powerpc debugfs hint.
extension ModeEngine {
  func applyParavirt(_ request: ModeRequest, avoided: [Int], facts: HostFacts)
    throws(AgentError) -> JSON
  {
    var interface = request.interface
    if interface == .auto {
      interface =
        paths.exists(HostPaths.paravirt)
        ? .sysfs : paths.exists(HostPaths.vpManualHint) ? .powerpcDebugfs : .sysfs
    }
    if interface == .sysfs {
      guard paths.exists(HostPaths.paravirt) else {
        throw unsupported(
          request, needs: HostPaths.paravirt,
          alternatives: "use cpuset, or boot a kernel with the series")
      }
      try change(CPUSet.format(avoided), HostPaths.paravirt)
      return .string(CPUSet.format(avoided))
    }
    guard paths.exists(HostPaths.vpManualHint) else {
      throw unsupported(
        request, needs: HostPaths.vpManualHint,
        alternatives: "mount debugfs and boot a powerpc kernel with the series, or use cpuset")
    }
    let first = avoided.min() ?? (facts.possible.max() ?? 0) + 1
    let tail = Array(first...max(first, facts.possible.max() ?? first))
    if !avoided.isEmpty && Set(avoided) != Set(tail) {
      throw AgentError(
        code: .badParams,
        message:
          "\(request.hostName): vp_manual_hint marks every CPU from its number up, so the set must run to the last CPU (\(CPUSet.format(tail))); got \(CPUSet.format(avoided))."
      )
    }
    try change("\(first)", HostPaths.vpManualHint)
    return .string("\(first)")
  }

  /// Reads the paravirt mode back.
  func verifyParavirt(result: inout [String: JSON], problems: inout [String]) {
    let expected = active?.expected.stringValue ?? ""
    let file =
      paths.exists(HostPaths.paravirt) && active?.request.interface != .powerpcDebugfs
      ? HostPaths.paravirt : HostPaths.vpManualHint
    let now = paths.readTrimmed(file) ?? ""
    result["read"] = .string(now)
    if now != expected && CPUSet.cpus(parsing: now) != CPUSet.cpus(parsing: expected) {
      problems.append("\(file) reads '\(now)', expected '\(expected)'")
    }
  }
}

import AgentProtocol
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

// Hotplug: `0` into cpuN/online for each avoided CPU (DESIGN §6).
extension ModeEngine {
  func applyHotplug(_ request: ModeRequest, avoided: [Int], facts: HostFacts)
    throws(AgentError) -> JSON
  {
    let remaining = facts.online.filter { !avoided.contains($0) }
    if remaining.isEmpty {
      throw AgentError(
        code: .badParams,
        message:
          "\(request.hostName): hotplug of \(CPUSet.format(avoided)) would leave no CPU online; keep at least one."
      )
    }
    for cpu in avoided where facts.online.contains(cpu) && !paths.exists(HostPaths.cpuOnline(cpu)) {
      throw unsupported(
        request, needs: HostPaths.cpuOnline(cpu),
        alternatives:
          "cpu\(cpu) cannot be taken offline here; leave it out of the set or use cpuset")
    }
    for cpu in avoided where facts.online.contains(cpu) {
      try change("0", HostPaths.cpuOnline(cpu))
    }
    return .string(CPUSet.format(remaining))
  }

  /// Reads the hotplug mode back.
  func verifyHotplug(facts: HostFacts, result: inout [String: JSON], problems: inout [String]) {
    let expected = active?.expected.stringValue ?? ""
    result["online"] = .string(CPUSet.format(facts.online))
    if CPUSet.format(facts.online) != expected {
      problems.append(
        "\(HostPaths.cpuDirectory)/online reads \(CPUSet.format(facts.online)), expected \(expected)"
      )
    }
  }
}

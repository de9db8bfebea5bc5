import AgentProtocol
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

// Preferred: the steal_governor module of the merged series folds cores by itself.
extension ModeEngine {
  func applyPreferred(_ request: ModeRequest, facts: HostFacts) throws(AgentError) -> JSON {
    guard facts.interfaces.contains("steal-governor-module") else {
      throw unsupported(
        request,
        needs: "the \(StealGovernor.moduleName) module (for \(HostPaths.preferred))",
        alternatives: "use paravirt or cpuset, or build the module for \(facts.kernelRelease)")
    }
    if kernel.moduleLoaded(StealGovernor.moduleName) {
      throw AgentError(
        code: .busy,
        message:
          "\(request.hostName): \(StealGovernor.moduleName) is already loaded by someone else; unload it (rmmod \(StealGovernor.moduleName)) and retry."
      )
    }
    var entry = JournalEntry(.moduleLoad)
    entry.name = StealGovernor.moduleName
    try journal.append(entry)
    let parameters = [
      ("interval_ms", "\(request.intervalMilliseconds)"),
      ("high_threshold", "\(request.highThreshold)"),
      ("low_threshold", "\(request.lowThreshold)"),
    ]
    try kernelCall { () throws(KernelError) in
      try kernel.loadModule(StealGovernor.moduleName, parameters: parameters)
    }
    return .null
  }

  /// Reads the preferred mode back.
  func verifyPreferred(result: inout [String: JSON], problems: inout [String]) {
    if !kernel.moduleLoaded(StealGovernor.moduleName) {
      problems.append("\(StealGovernor.moduleName) is not loaded")
    }
    guard let preferred = paths.readTrimmed(HostPaths.preferred) else {
      problems.append("\(HostPaths.preferred) is missing")
      return
    }
    result["preferred"] = .string(preferred)
  }
}

import AgentProtocol
import CPVBenchShims
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// Applies, verifies and restores CPU modes on one host, journaling every change first.
///
/// At most one mode is active; applying a mode restores the previous one first. Every
/// method is safe to call from any thread (a signal handler's restore waits for an apply).
package final class ModeEngine: @unchecked Sendable {
  package let paths: HostPaths
  package let kernel: any SysfsWriter
  /// The journal's host path.
  package let journalPath: String
  let journal: RestoreJournal
  private let lock = NSLock()
  /// The mode in force; its `expected` is what verify reads back.
  var active: Active?

  struct Active {
    var request: ModeRequest
    var avoided: [Int]
    var expected: JSON
  }

  /// An engine for the host under `paths`, journaling to `journalPath` (a host path).
  package init(
    paths: HostPaths, kernel: any SysfsWriter, journalPath: String,
    afterJournalAppend: (@Sendable () -> Void)? = nil
  ) {
    self.paths = paths
    self.kernel = kernel
    self.journalPath = journalPath
    self.journal = RestoreJournal(paths: paths, path: journalPath, afterAppend: afterJournalAppend)
  }

  private var cpuDir: String { HostPaths.cpuDirectory }

  /// This machine's name from gethostname(2) (no DNS lookup, unlike ProcessInfo.hostName).
  package static var localHostName: String {
    var buffer = [CChar](repeating: 0, count: 256)
    gethostname(&buffer, buffer.count - 1)
    return String(cString: buffer)
  }

  /// Applies the mode in `params` (see docs/agent-protocol.md) and returns its timings.
  ///
  /// With `"evacuation": true` the reply also carries `evacuation_ms`: the time from apply
  /// until every avoided CPU is below 5 % busy by /proc/stat deltas (or `evacuation_timeout`).
  package func apply(params: JSON, monitors: MonitorSet) throws(AgentError) -> JSON {
    var request = try ModeRequest(params: params)
    if request.hostName.isEmpty { request.hostName = ModeEngine.localHostName }
    let before = EvacuationMeter(paths: paths).read()
    let start = pvb_monotonic_ns()
    var result = try applyLocked(request)
    let applied = pvb_monotonic_ns()
    // An incremental step evacuates only the CPUs it adds.
    let evacuate = result.removeValue(forKey: "evacuate")?.stringValue
    result["apply_ms"] = .double(Double(applied - start) / 1e6)
    // A step that only gives CPUs back has nothing to evacuate.
    if request.measureEvacuation, evacuate != "",
      let avoided = evacuate ?? result["avoided"]?.stringValue
    {
      let outcome = EvacuationMeter(paths: paths).measure(
        cpus: CPUSet.cpus(parsing: avoided) ?? [], baseline: before, start: start,
        timeout: .milliseconds(request.evacuationTimeoutMilliseconds),
        window: .milliseconds(request.evacuationWindowMilliseconds))
      result["evacuation_ms"] = outcome.milliseconds.map(JSON.double) ?? .null
      result["evacuation_timeout"] = .bool(outcome.milliseconds == nil)
      result["evacuation_busy_percent"] = .object(
        Dictionary(
          uniqueKeysWithValues: outcome.lastBusyPercent.map { ("\($0.key)", JSON.double($0.value)) }
        ))
    }
    return .object(result)
  }

  private func applyLocked(_ request: ModeRequest) throws(AgentError) -> [String: JSON] {
    lock.lock()
    defer { lock.unlock() }
    var result: [String: JSON] = ["mode": .string(request.kind.rawValue)]
    if request.incremental, let current = active, current.request.kind == request.kind,
      current.request.interface == request.interface,
      [.hotplug, .paravirt, .cpuset].contains(request.kind)
    {
      return try adjustLocked(request, from: current, result: result)
    }
    if active != nil || journal.exists {
      try restoreLocked()
      result["restored_previous"] = true
    }
    let facts = HostFacts.read(paths: paths, kernel: kernel)
    // The same checks `pvbench doctor` prints, so both say the same before anything changes.
    let check = ModeSupport.check(request, host: request.hostName, facts: facts)
    if let problem = check.problem { throw AgentError(code: check.code, message: problem) }
    let avoided = try resolve(request, facts: facts)
    result["avoided"] = .string(CPUSet.format(avoided))
    do {
      let expected: JSON
      switch request.kind {
      // ModeSupport.check refuses the governor above: it is the controller's loop.
      case .outOfBox, .governor: expected = .null
      case .hotplug: expected = try applyHotplug(request, avoided: avoided, facts: facts)
      case .paravirt: expected = try applyParavirt(request, avoided: avoided, facts: facts)
      case .preferred: expected = try applyPreferred(request, facts: facts)
      case .cpuset:
        expected = try applyCpuset(request, avoided: avoided, facts: facts, result: &result)
      }
      active = Active(request: request, avoided: avoided, expected: expected)
    } catch {
      // Undo whatever part was done, so a refused apply leaves the host as it was; say it
      // was restored only when the journal's replay read every change back.
      var failure = error
      do {
        try restoreLocked()
        if failure.code == .kernelRefused {
          failure.message += " The host was restored and read back."
        }
      } catch {
        failure.message += " Restoring the host failed too: \(error.message)"
      }
      throw failure
    }
    return result
  }

  /// Moves the active mode to `request`'s CPU set by changing only the CPUs that differ,
  /// journaling each change; the previous mode is not restored in between.
  ///
  /// The reply's `avoided` is the new set, `added` and `removed` the difference, and
  /// evacuation (when asked) is measured over the added CPUs only.
  private func adjustLocked(
    _ request: ModeRequest, from current: Active, result: [String: JSON]
  ) throws(AgentError) -> [String: JSON] {
    var result = result
    let facts = HostFacts.read(paths: paths, kernel: kernel)
    let avoided = try resolve(request, facts: facts)
    let added = avoided.filter { !current.avoided.contains($0) }
    let removed = current.avoided.filter { !avoided.contains($0) }
    result["incremental"] = true
    result["avoided"] = .string(CPUSet.format(avoided))
    result["added"] = .string(CPUSet.format(added))
    result["removed"] = .string(CPUSet.format(removed))
    result["evacuate"] = .string(CPUSet.format(added))
    do throws(AgentError) {
      let expected: JSON
      switch request.kind {
      case .hotplug:
        let remaining = facts.online.filter { !added.contains($0) } + removed
        if remaining.isEmpty {
          throw AgentError(
            code: .badParams,
            message:
              "\(request.hostName): hotplug of \(CPUSet.format(avoided)) would leave no CPU online; keep at least one."
          )
        }
        // Online first, so the host never has fewer CPUs than either end of the step.
        for cpu in removed.sorted() { try change("1", HostPaths.cpuOnline(cpu)) }
        for cpu in added.sorted(by: >) where facts.online.contains(cpu) {
          guard paths.exists(HostPaths.cpuOnline(cpu)) else {
            throw unsupported(
              request, needs: HostPaths.cpuOnline(cpu),
              alternatives:
                "cpu\(cpu) cannot be taken offline here; leave it out of the set or use cpuset")
          }
          try change("0", HostPaths.cpuOnline(cpu))
        }
        expected = .string(CPUSet.format(Set(remaining).sorted()))
      case .paravirt:
        expected = try applyParavirt(request, avoided: avoided, facts: facts)
      case .cpuset:
        expected = try adjustCpuset(request, avoided: avoided, facts: facts)
      default:
        expected = current.expected
      }
      active = Active(request: request, avoided: avoided, expected: expected)
    } catch {
      // A refused step leaves the host in the mode with whatever part of the step was done;
      // the journal still holds everything, so restore stays complete. Say so.
      var failure = error
      failure.message += " The mode stays applied; the step was not completed."
      throw failure
    }
    return result
  }

  private func resolve(_ request: ModeRequest, facts: HostFacts) throws(AgentError) -> [Int] {
    if !request.kind.avoidsCPUs { return [] }
    let entitled = request.entitledCores ?? facts.entitledCores
    guard let cpus = request.cpus.resolve(cores: facts.cores, entitledCores: entitled) else {
      throw AgentError(
        code: .badParams,
        message:
          "\(request.hostName): 'non-entitled' needs the host's entitled cores; give \"entitled\" (the experiment file's 'entitled:') — this host has no /proc/powerpc/lparcfg."
      )
    }
    let unknown = cpus.filter { !facts.present.contains($0) }
    if !unknown.isEmpty {
      throw AgentError(
        code: .badParams,
        message:
          "\(request.hostName): CPUs \(CPUSet.format(unknown)) are not present (present: \(CPUSet.format(facts.present)))."
      )
    }
    return cpus
  }

  func unsupported(_ request: ModeRequest, needs file: String, alternatives: String)
    -> AgentError
  {
    AgentError(
      code: .unsupported,
      message:
        "\(request.hostName): mode \(request.kind.rawValue) needs \(file); this kernel has none — \(alternatives)."
    )
  }

  /// Journals, then writes, one kernel file.
  func change(_ value: String, _ path: String) throws(AgentError) {
    var entry = JournalEntry(.write)
    entry.path = path
    entry.original = paths.readTrimmed(path) ?? ""
    entry.value = value
    try journal.append(entry)
    try kernelCall { () throws(KernelError) in try kernel.write(value, to: path) }
  }

  /// Runs a kernel change, turning its errno into the agent's `kernel-refused`.
  func kernelCall(_ body: () throws(KernelError) -> Void) throws(AgentError) {
    do { try body() } catch {
      throw AgentError(
        code: .kernelRefused, message: "The kernel refused: \(error)")
    }
  }

  // MARK: verify and restore

  /// Reads the active mode back from the kernel's files.
  ///
  /// - Throws: `AgentError` (`verify-failed`) with what was expected and what was read.
  package func verify() throws(AgentError) -> JSON {
    lock.lock()
    defer { lock.unlock() }
    let start = pvb_monotonic_ns()
    let facts = HostFacts.read(paths: paths, kernel: kernel)
    var result: [String: JSON] = ["mode": .string((active?.request.kind ?? .outOfBox).rawValue)]
    var problems: [String] = []
    let host = active?.request.hostName ?? ModeEngine.localHostName
    switch active?.request.kind ?? .outOfBox {
    case .outOfBox, .governor:
      let offline = facts.present.filter { !facts.online.contains($0) }
      if !offline.isEmpty { problems.append("CPUs \(CPUSet.format(offline)) are offline") }
      if let marked = paths.readTrimmed(HostPaths.paravirt), !marked.isEmpty {
        problems.append("\(HostPaths.paravirt) marks \(marked)")
      }
      if kernel.moduleLoaded(StealGovernor.moduleName) {
        problems.append("\(StealGovernor.moduleName) is loaded")
      }
      result["online"] = .string(CPUSet.format(facts.online))
    case .hotplug: verifyHotplug(facts: facts, result: &result, problems: &problems)
    case .paravirt: verifyParavirt(result: &result, problems: &problems)
    case .preferred: verifyPreferred(result: &result, problems: &problems)
    case .cpuset: verifyCpuset(facts: facts, result: &result, problems: &problems)
    }
    result["verify_ms"] = .double(Double(pvb_monotonic_ns() - start) / 1e6)
    if !problems.isEmpty {
      throw AgentError(
        code: .verifyFailed,
        message:
          "\(host): mode \((active?.request.kind ?? .outOfBox).rawValue) does not hold: \(problems.joined(separator: "; "))."
      )
    }
    result["ok"] = true
    return .object(result)
  }

  /// Undoes every journaled change in reverse, verifies, and deletes the journal.
  ///
  /// Calling it with nothing active is not an error: it reports zero steps.
  /// - Throws: `AgentError` (`verify-failed`) when something could not be put back; the
  ///   journal is kept so `pvbench restore` can retry.
  @discardableResult
  package func restore() throws(AgentError) -> JSON {
    lock.lock()
    defer { lock.unlock() }
    return try restoreLocked()
  }

  @discardableResult
  private func restoreLocked() throws(AgentError) -> JSON {
    let start = pvb_monotonic_ns()
    let mode = (active?.request.kind ?? .outOfBox).rawValue
    active = nil
    guard journal.exists else {
      return ["mode": .string(mode), "undone": 0, "restore_ms": 0.0]
    }
    let outcome = JournalReplayer(paths: paths, kernel: kernel).replay(journal.entries())
    if !outcome.problems.isEmpty {
      throw AgentError(
        code: .verifyFailed,
        message:
          "Restoring \(mode) left problems: \(outcome.problems.joined(separator: " ")) The journal \(journal.path) is kept; run 'pvbench restore'."
      )
    }
    journal.remove()
    return [
      "mode": .string(mode), "undone": .int(Int64(outcome.undone)),
      "restore_ms": .double(Double(pvb_monotonic_ns() - start) / 1e6),
    ]
  }
}

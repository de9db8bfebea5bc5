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
  private let journal: RestoreJournal
  private let lock = NSLock()
  private var active: Active?

  private struct Active {
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
    result["apply_ms"] = .double(Double(applied - start) / 1e6)
    if params["evacuation"]?.boolValue == true, let avoided = result["avoided"]?.stringValue {
      let timeout = Double(params["evacuation_timeout_ms"]?.intValue ?? 30_000) / 1000
      let window = Double(params["evacuation_window_ms"]?.intValue ?? 200) / 1000
      let outcome = EvacuationMeter(paths: paths).measure(
        cpus: CPUSet.cpus(parsing: avoided) ?? [], baseline: before, start: start,
        timeout: .seconds(timeout), window: .seconds(window))
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
      case .outOfBox: expected = .null
      case .hotplug: expected = try applyHotplug(request, avoided: avoided, facts: facts)
      case .paravirt: expected = try applyParavirt(request, avoided: avoided, facts: facts)
      case .preferred: expected = try applyPreferred(request, facts: facts)
      case .cpuset:
        expected = try applyCpuset(request, avoided: avoided, facts: facts, result: &result)
      }
      active = Active(request: request, avoided: avoided, expected: expected)
    } catch {
      // Undo whatever part was done, so a refused apply leaves the host as it was.
      _ = try? restoreLocked()
      throw error
    }
    return result
  }

  private func resolve(_ request: ModeRequest, facts: HostFacts) throws(AgentError) -> [Int] {
    if request.kind == .outOfBox || request.kind == .preferred { return [] }
    var entitled = request.entitledCores
    if entitled == nil, let capacity = facts.entitledCapacity {
      entitled = Int(capacity.rounded(.up))
    }
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

  private func unsupported(_ request: ModeRequest, needs file: String, alternatives: String)
    -> AgentError
  {
    AgentError(
      code: .unsupported,
      message:
        "\(request.hostName): mode \(request.kind.rawValue) needs \(file); this kernel has none — \(alternatives)."
    )
  }

  private func change(_ value: String, _ path: String) throws(AgentError) {
    var entry = JournalEntry(.write)
    entry.path = path
    entry.original = paths.readTrimmed(path) ?? ""
    entry.value = value
    try journal.append(entry)
    try kernelCall { () throws(KernelError) in try kernel.write(value, to: path) }
  }

  private func kernelCall(_ body: () throws(KernelError) -> Void) throws(AgentError) {
    do { try body() } catch {
      throw AgentError(
        code: .kernelRefused, message: "The kernel refused: \(error) The host was restored.")
    }
  }

  // MARK: hotplug

  private func applyHotplug(_ request: ModeRequest, avoided: [Int], facts: HostFacts)
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

  // MARK: paravirt

  private func applyParavirt(_ request: ModeRequest, avoided: [Int], facts: HostFacts)
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

  // MARK: preferred

  private func applyPreferred(_ request: ModeRequest, facts: HostFacts) throws(AgentError) -> JSON {
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

  // MARK: cpuset

  private func applyCpuset(
    _ request: ModeRequest, avoided: [Int], facts: HostFacts, result: inout [String: JSON]
  ) throws(AgentError) -> JSON {
    guard facts.cpusetUsable else {
      throw unsupported(
        request,
        needs:
          "the cpuset controller in \(HostPaths.cgroupRoot)/cgroup.controllers (or a v1 cpuset mount)",
        alternatives: "enable cpuset, or use hotplug")
    }
    let allowed = facts.online.filter { !avoided.contains($0) }
    if allowed.isEmpty {
      throw AgentError(
        code: .badParams,
        message:
          "\(request.hostName): a cpuset without \(CPUSet.format(avoided)) would hold no CPU.")
    }
    let v1 = facts.cgroupVersion == .v1
    let hierarchy = v1 ? HostPaths.cgroupRoot + "/cpuset" : HostPaths.cgroupRoot
    let slice = "\(hierarchy)/pvbench.slice-\(getpid())"
    if !v1 {
      let control = "\(hierarchy)/cgroup.subtree_control"
      let enabled = (paths.read(control) ?? "").split(whereSeparator: \.isWhitespace)
      if !enabled.contains("cpuset") {
        var entry = JournalEntry(.subtreeAdd)
        entry.path = control
        entry.name = "cpuset"
        try journal.append(entry)
        try kernelCall { () throws(KernelError) in try kernel.write("+cpuset", to: control) }
      }
    }
    var entry = JournalEntry(.mkdir)
    entry.path = slice
    entry.fallback = "\(hierarchy)/cgroup.procs"
    try journal.append(entry)
    try kernelCall { () throws(KernelError) in try kernel.makeDirectory(slice) }
    if v1 {
      try change(paths.readTrimmed("\(hierarchy)/cpuset.mems") ?? "0", "\(slice)/cpuset.mems")
    }
    try change(CPUSet.format(allowed), "\(slice)/cpuset.cpus")
    var moved = 0
    var unmovable: [JSON] = []
    for task in TaskList(paths: paths).userTasks(hierarchy: hierarchy, v1: v1) {
      var move = JournalEntry(.move)
      move.pid = task.pid
      move.from = "\(hierarchy)\(task.cgroup == "/" ? "" : task.cgroup)/cgroup.procs"
      try journal.append(move)
      do {
        try kernel.write("\(task.pid)", to: "\(slice)/cgroup.procs")
        moved += 1
      } catch  where error.errno == ESRCH {
        continue
      } catch {
        unmovable.append(.int(Int64(task.pid)))
      }
    }
    result["cgroup"] = .string(slice)
    result["tasks_moved"] = .int(Int64(moved))
    result["tasks_unmovable"] = .array(unmovable)
    return .string(CPUSet.format(allowed))
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
    var result: [String: JSON] = ["mode": .string(active?.request.kind.rawValue ?? "out-of-box")]
    var problems: [String] = []
    let host = active?.request.hostName ?? ModeEngine.localHostName
    switch active?.request.kind ?? .outOfBox {
    case .outOfBox:
      let offline = facts.present.filter { !facts.online.contains($0) }
      if !offline.isEmpty { problems.append("CPUs \(CPUSet.format(offline)) are offline") }
      if let marked = paths.readTrimmed(HostPaths.paravirt), !marked.isEmpty {
        problems.append("\(HostPaths.paravirt) marks \(marked)")
      }
      if kernel.moduleLoaded(StealGovernor.moduleName) {
        problems.append("\(StealGovernor.moduleName) is loaded")
      }
      result["online"] = .string(CPUSet.format(facts.online))
    case .hotplug:
      let expected = active?.expected.stringValue ?? ""
      result["online"] = .string(CPUSet.format(facts.online))
      if CPUSet.format(facts.online) != expected {
        problems.append(
          "\(HostPaths.cpuDirectory)/online reads \(CPUSet.format(facts.online)), expected \(expected)"
        )
      }
    case .paravirt:
      let expected = active?.expected.stringValue ?? ""
      let file =
        paths.exists(HostPaths.paravirt) && active?.request.interface != .powerpcDebugfs
        ? HostPaths.paravirt : HostPaths.vpManualHint
      let now = paths.readTrimmed(file) ?? ""
      result["read"] = .string(now)
      if now != expected && CPUSet.cpus(parsing: now) != CPUSet.cpus(parsing: expected) {
        problems.append("\(file) reads '\(now)', expected '\(expected)'")
      }
    case .preferred:
      if !kernel.moduleLoaded(StealGovernor.moduleName) {
        problems.append("\(StealGovernor.moduleName) is not loaded")
      }
      guard let preferred = paths.readTrimmed(HostPaths.preferred) else {
        problems.append("\(HostPaths.preferred) is missing")
        break
      }
      result["preferred"] = .string(preferred)
    case .cpuset:
      let expected = active?.expected.stringValue ?? ""
      let v1 = facts.cgroupVersion == .v1
      let hierarchy = v1 ? HostPaths.cgroupRoot + "/cpuset" : HostPaths.cgroupRoot
      let slice = "\(hierarchy)/pvbench.slice-\(getpid())"
      let effective = paths.readTrimmed("\(slice)/cpuset.cpus.effective") ?? ""
      result["effective"] = .string(effective)
      if CPUSet.cpus(parsing: effective) != CPUSet.cpus(parsing: expected) {
        problems.append(
          "\(slice)/cpuset.cpus.effective reads '\(effective)', expected '\(expected)'")
      }
      let outside = TaskList(paths: paths).userTasks(hierarchy: hierarchy, v1: v1)
        .filter { hierarchy + $0.cgroup != slice }
      result["tasks_outside"] = .int(Int64(outside.count))
      if !outside.isEmpty {
        problems.append(
          "\(outside.count) user tasks are outside \(slice) (first: \(outside.prefix(5).map { String($0.pid) }.joined(separator: ", ")))"
        )
      }
    }
    result["verify_ms"] = .double(Double(pvb_monotonic_ns() - start) / 1e6)
    if !problems.isEmpty {
      throw AgentError(
        code: .verifyFailed,
        message:
          "\(host): mode \(active?.request.kind.rawValue ?? "out-of-box") does not hold: \(problems.joined(separator: "; "))."
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
    let mode = active?.request.kind.rawValue ?? "out-of-box"
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

/// Makes the writer for `paths`: the kernel's own files under `paths.root`.
///
/// A debug build (the one the tests run) emulates the kernel under a root other than
/// `/` with `FakeKernelSysfsWriter`; a release build writes the files under any root
/// as they are, so `--root` works for a chroot or a mounted image.
package func makeSysfsWriter(paths: HostPaths) -> any SysfsWriter {
  #if ENABLE_MOCKING
    if !paths.isRealHost { return FakeKernelSysfsWriter(paths: paths) }
  #endif
  return KernelSysfsWriter()
}

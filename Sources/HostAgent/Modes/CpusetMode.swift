import AgentProtocol
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

// Cpuset: a cgroup without the avoided CPUs, holding every movable user task.
extension ModeEngine {
  func applyCpuset(
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
    guard let cpusets = CpusetHierarchy(facts.cgroupVersion) else {
      throw unsupported(
        request, needs: "a cgroup hierarchy at \(HostPaths.cgroupRoot)",
        alternatives: "mount cgroup2 or a v1 cpuset hierarchy, or use hotplug")
    }
    let v1 = cpusets.version == .v1
    let hierarchy = cpusets.root
    let slice = ModeEngine.cpusetSlice(cpusets)
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
      // A v1 cpuset starts with no memory nodes, and the kernel refuses tasks (ENOSPC) until
      // it has some: give it the parent's.
      let mems =
        paths.readTrimmed("\(hierarchy)/\(cpusets.effectiveMemsFile)")
        ?? paths.readTrimmed("\(hierarchy)/cpuset.mems") ?? "0"
      try change(mems, "\(slice)/cpuset.mems")
    }
    try change(CPUSet.format(allowed), "\(slice)/cpuset.cpus")
    var moved = 0
    var unmovable: [JSON] = []
    for task in TaskList(paths: paths).userTasks(hierarchy: hierarchy, v1: v1) {
      var move = JournalEntry(.move)
      move.pid = task.pid
      move.from = "\(cpusets.folder(task.cgroup))/cgroup.procs"
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

  /// Moves the active cpuset to the CPUs outside `avoided`; its tasks stay where they are.
  func adjustCpuset(_ request: ModeRequest, avoided: [Int], facts: HostFacts)
    throws(AgentError) -> JSON
  {
    guard let cpusets = CpusetHierarchy(facts.cgroupVersion) else {
      throw unsupported(
        request, needs: "a cgroup hierarchy at \(HostPaths.cgroupRoot)",
        alternatives: "mount cgroup2 or a v1 cpuset hierarchy, or use hotplug")
    }
    let allowed = facts.online.filter { !avoided.contains($0) }
    if allowed.isEmpty {
      throw AgentError(
        code: .badParams,
        message:
          "\(request.hostName): a cpuset without \(CPUSet.format(avoided)) would hold no CPU.")
    }
    try change(CPUSet.format(allowed), "\(ModeEngine.cpusetSlice(cpusets))/cpuset.cpus")
    return .string(CPUSet.format(allowed))
  }

  /// The cgroup this agent's cpuset mode makes in `hierarchy`.
  static func cpusetSlice(_ hierarchy: CpusetHierarchy) -> String {
    "\(hierarchy.root)/pvbench.slice-\(getpid())"
  }

  /// Reads the cpuset mode back.
  func verifyCpuset(facts: HostFacts, result: inout [String: JSON], problems: inout [String]) {
    let expected = active?.expected.stringValue ?? ""
    guard let cpusets = CpusetHierarchy(facts.cgroupVersion) else {
      problems.append("no cgroup hierarchy is mounted at \(HostPaths.cgroupRoot) any more")
      return
    }
    let slice = ModeEngine.cpusetSlice(cpusets)
    let file = "\(slice)/\(cpusets.effectiveCPUsFile)"
    let effective = paths.readTrimmed(file) ?? ""
    result["effective"] = .string(effective)
    result["cgroup"] = .string(slice)
    if CPUSet.cpus(parsing: effective) != CPUSet.cpus(parsing: expected) {
      problems.append("\(file) reads '\(effective)', expected '\(expected)'")
    }
    let outside = TaskList(paths: paths)
      .userTasks(hierarchy: cpusets.root, v1: cpusets.version == .v1)
      .filter { cpusets.folder($0.cgroup) != slice }
    result["tasks_outside"] = .int(Int64(outside.count))
    if !outside.isEmpty {
      problems.append(
        "\(outside.count) user tasks are outside \(slice) (first: \(outside.prefix(5).map { String($0.pid) }.joined(separator: ", ")))"
      )
    }
  }
}

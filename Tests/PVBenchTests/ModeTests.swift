import AgentProtocol
import AgentTestDoubles
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import Results
import Testing

@Suite struct ModeTests {
  /// An engine over a fake tree, journaling under its root.
  func engine(_ tree: FakeHostTree) -> ModeEngine {
    ModeEngine(
      paths: tree.paths, kernel: FakeKernelSysfsWriter(paths: tree.paths),
      journalPath: "/run/pvbench/journal-test.jsonl")
  }

  func apply(_ engine: ModeEngine, _ params: JSON) throws -> JSON {
    try engine.apply(params: params, monitors: MonitorSet(paths: engine.paths))
  }

  /// The message of the `AgentError` that applying `params` on a fresh engine over `tree`
  /// throws; nil when it throws nothing or another error.
  func refusal(_ tree: FakeHostTree, _ params: JSON) -> String? {
    do {
      _ = try apply(engine(tree), params)
      return nil
    } catch {
      return (error as? AgentError)?.message
    }
  }

  @Test func hotplugOfflinesNonEntitledCoresAndRestores() throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2)
    defer { tree.remove() }
    let before = tree.snapshot()
    let modes = engine(tree)
    let result = try apply(
      modes, ["mode": "hotplug", "cpus": "non-entitled", "entitled": 2, "host": "lpar1"])
    #expect(result["avoided"] == "4-7")
    #expect(result["apply_ms"]?.doubleValue != nil)
    #expect(tree.read("/sys/devices/system/cpu/online") == "0-3\n")
    #expect(tree.read("/sys/devices/system/cpu/cpu5/online") == "0\n")
    #expect(try modes.verify()["online"] == "0-3")
    let journal = tree.read("/run/pvbench/journal-test.jsonl")
    #expect(journal.split(separator: "\n").count == 5)  // begin + 4 CPUs
    let restored = try modes.restore()
    #expect(restored["undone"] == 4)
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
    #expect(!tree.paths.exists("/run/pvbench/journal-test.jsonl"))
  }

  @Test func hotplugThatWouldOfflineEveryCPUChangesNothing() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1, cpu0Hotpluggable: true)
    defer { tree.remove() }
    let before = tree.snapshot()
    #expect(
      refusal(tree, ["mode": "hotplug", "cpus": "all", "host": "lpar1"])
        == "lpar1: hotplug of 0-1 would leave no CPU online; keep at least one.")
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
    #expect(!tree.paths.exists("/run/pvbench/journal-test.jsonl"))
  }

  @Test func fakeKernelRefusesOfflineOfLastCPU() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1, cpu0Hotpluggable: true)
    defer { tree.remove() }
    let kernel = FakeKernelSysfsWriter(paths: tree.paths)
    try kernel.write("0", to: HostPaths.cpuOnline(1))
    #expect(tree.read("/sys/devices/system/cpu/online") == "0\n")
    #expect(throws: KernelError(errno: EBUSY, path: HostPaths.cpuOnline(0), action: "write '0'")) {
      try kernel.write("0", to: HostPaths.cpuOnline(0))
    }
  }

  @Test func paravirtWritesCpulistAndRestoresEmpty() throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2)
    defer { tree.remove() }
    let modes = engine(tree)
    _ = try apply(modes, ["mode": "paravirt", "cpus": "6-7,4-5"])
    #expect(tree.read(HostPaths.paravirt) == "4-7\n")
    #expect(try modes.verify()["read"] == "4-7")
    try modes.restore()
    #expect(tree.read(HostPaths.paravirt).trimmingCharacters(in: .whitespacesAndNewlines) == "")
  }

  @Test func paravirtOfEveryCPUIsRefusedByTheKernelAndRolledBack() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 2)
    defer { tree.remove() }
    let before = tree.snapshot()
    #expect {
      try apply(engine(tree), ["mode": "paravirt", "cpus": "all"])
    } throws: { error in
      let error = error as? AgentError
      return error?.code == .kernelRefused
        && error?.message
          == "The kernel refused: write '0-3' to /sys/devices/system/cpu/paravirt failed: Invalid argument (errno 22). The host was restored and read back."
    }
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  @Test func missingParavirtInterfaceIsAClearErrorBeforeAnyChange() throws {
    let tree = try FakeHostTree(paravirt: false)
    defer { tree.remove() }
    #expect(
      refusal(tree, ["mode": "paravirt", "cpus": "4-7", "host": "lpar1"])
        == "lpar1: mode paravirt needs /sys/devices/system/cpu/paravirt; this kernel has none — use cpuset, or boot a kernel with the series."
    )
    #expect(!tree.paths.exists("/run/pvbench"))
  }

  @Test func powerpcHintTakesTheFirstCPUOfATail() throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, paravirt: false, vpManualHint: true)
    defer { tree.remove() }
    let modes = engine(tree)
    _ = try apply(modes, ["mode": "paravirt", "cpus": "non-entitled", "entitled": 3])
    #expect(tree.read(HostPaths.vpManualHint) == "6\n")
    _ = try modes.verify()
    try modes.restore()
    #expect(tree.read(HostPaths.vpManualHint) == "8\n")
    #expect(throws: AgentError.self) {
      try apply(modes, ["mode": "paravirt", "cpus": "2-3", "interface": "powerpc-debugfs"])
    }
  }

  @Test func entitlementComesFromLparcfg() throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, entitledCapacity: 3)
    defer { tree.remove() }
    let modes = engine(tree)
    #expect(try apply(modes, ["mode": "paravirt", "cpus": "non-entitled"])["avoided"] == "6-7")
    try modes.restore()
  }

  @Test func preferredLoadsAndUnloadsTheGovernor() throws {
    let tree = try FakeHostTree(stealGovernorModule: true)
    defer { tree.remove() }
    let before = tree.snapshot()
    let modes = engine(tree)
    _ = try apply(modes, ["mode": "preferred", "high_threshold": 700, "low_threshold": 300])
    #expect(tree.read("/sys/module/steal_governor/parameters/high_threshold") == "700\n")
    #expect(try modes.verify()["preferred"] == "0-7")
    try modes.restore()
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  @Test func preferredWithoutTheModuleNamesWhatIsMissing() throws {
    let tree = try FakeHostTree()
    defer { tree.remove() }
    #expect(
      refusal(tree, ["mode": "preferred", "host": "kvm1"])
        == "kvm1: mode preferred needs the steal_governor module (for /sys/devices/system/cpu/preferred); this kernel has none — use paravirt or cpuset, or build the module for 6.18.0-pvtest."
    )
  }

  @Test(arguments: [FakeHostTree.Cgroup.v2, .v1])
  func cpusetMovesEveryUserTaskAndPutsThemBack(cgroup: FakeHostTree.Cgroup) throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, cgroup: cgroup)
    defer { tree.remove() }
    let before = tree.snapshot()
    let modes = engine(tree)
    let result = try apply(modes, ["mode": "cpuset", "cpus": "4-7"])
    #expect(result["tasks_moved"] == 3)  // init, sshd, bash; not the kernel thread
    let slice = result["cgroup"]?.stringValue ?? ""
    #expect(tree.read("\(slice)/cgroup.procs") == "1\n300\n400\n")
    let effective = cgroup == .v1 ? "cpuset.effective_cpus" : "cpuset.cpus.effective"
    #expect(tree.read("\(slice)/\(effective)") == "0-3\n")
    #expect(verifiedEffective(modes) == "0-3")
    #expect(tree.read("/proc/2/cgroup").contains(":/\n"))
    let verified = try modes.verify()
    #expect(verified["tasks_outside"] == 0)
    try modes.restore()
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  private func verifiedEffective(_ modes: ModeEngine) -> String? {
    (try? modes.verify())?["effective"]?.stringValue
  }

  /// The governor's steps: one core (both siblings) at a time, in place, never a restore.
  @Test(arguments: ["hotplug", "paravirt", "cpuset-v1", "cpuset-v2"])
  func incrementalStepsMoveOneCoreWithoutRestoring(mode: String) throws {
    let cgroup: FakeHostTree.Cgroup = mode == "cpuset-v1" ? .v1 : .v2
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, cgroup: cgroup)
    defer { tree.remove() }
    let before = tree.snapshot()
    let modes = engine(tree)
    let kind = mode.hasPrefix("cpuset") ? "cpuset" : mode
    func step(_ cpus: String) throws -> JSON {
      try apply(modes, ["mode": .string(kind), "cpus": .string(cpus), "incremental": true])
    }
    /// What the kernel's files say the mode leaves usable.
    func usable() throws -> String {
      let verified = try modes.verify()
      switch kind {
      case "hotplug": return verified["online"]?.stringValue ?? "?"
      case "paravirt":
        let marked = CPUSet.cpus(parsing: verified["read"]?.stringValue ?? "") ?? []
        return CPUSet.format((0..<8).filter { !marked.contains($0) })
      default: return verified["effective"]?.stringValue ?? "?"
      }
    }
    let first = try step("6-7")
    #expect(first["incremental"] == nil)  // nothing active yet: a plain apply
    #expect(try usable() == "0-5")
    let fold = try step("4-7")
    #expect(fold["incremental"] == true)
    #expect(fold["restored_previous"] == nil)
    #expect(fold["added"] == "4-5" && fold["removed"] == "")
    #expect(try usable() == "0-3")
    let unfold = try step("6-7")
    #expect(unfold["added"] == "" && unfold["removed"] == "4-5")
    #expect(try usable() == "0-5")
    let none = try step("")
    #expect(none["removed"] == "6-7")
    #expect(try usable() == "0-7")
    // Restore undoes only the first write of each file (the later steps' writes hold no
    // original), and leaves the tree as it was.
    try modes.restore()
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  /// The fake kernel follows the series as published (docs/modes.md, "The fake kernel").
  @Test func theFakeKernelFollowsTheSeriesRules() throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, stealGovernorModule: true)
    defer { tree.remove() }
    let kernel = FakeKernelSysfsWriter(paths: tree.paths)
    func errno(_ body: () throws(KernelError) -> Void) -> Int32? {
      do {
        try body()
        return nil
      } catch { return error.errno }
    }
    let paravirt = HostPaths.paravirt
    // paravirt_store: offline CPUs may be named; the online mask itself, more CPUs than are
    // online, or a CPU past the last possible one may not.
    try kernel.write("0", to: HostPaths.cpuOnline(7))
    #expect(errno { () throws(KernelError) in try kernel.write("6-7", to: paravirt) } == nil)
    #expect(errno { () throws(KernelError) in try kernel.write("0-6", to: paravirt) } == EINVAL)
    #expect(errno { () throws(KernelError) in try kernel.write("0-7", to: paravirt) } == EINVAL)
    #expect(errno { () throws(KernelError) in try kernel.write("8", to: paravirt) } == ERANGE)
    #expect(errno { () throws(KernelError) in try kernel.write("", to: paravirt) } == nil)
    // The module's parameter ranges.
    func load(_ interval: Int, _ high: Int, _ low: Int) -> Int32? {
      errno { () throws(KernelError) in
        try kernel.loadModule(
          StealGovernor.moduleName,
          parameters: [
            ("interval_ms", "\(interval)"), ("high_threshold", "\(high)"),
            ("low_threshold", "\(low)"),
          ])
      }
    }
    #expect(load(99, 500, 200) == EINVAL)
    #expect(load(100_001, 500, 200) == EINVAL)
    #expect(load(1000, 10_000, 200) == EINVAL)
    #expect(load(1000, 200, 200) == EINVAL)
    #expect(load(1000, 500, 200) == nil)
    // `preferred` is the governor's to write.
    #expect(
      errno { () throws(KernelError) in try kernel.write("0-3", to: HostPaths.preferred) }
        == EACCES)
    try kernel.unloadModule(StealGovernor.moduleName)
  }

  @Test func applyingAModeRestoresThePreviousOne() throws {
    let tree = try FakeHostTree()
    defer { tree.remove() }
    let modes = engine(tree)
    _ = try apply(modes, ["mode": "hotplug", "cpus": "6-7"])
    let second = try apply(modes, ["mode": "paravirt", "cpus": "6-7"])
    #expect(second["restored_previous"] == true)
    #expect(tree.read("/sys/devices/system/cpu/online") == "0-7\n")
    #expect(tree.read(HostPaths.paravirt) == "6-7\n")
    try modes.restore()
    _ = try modes.verify()
  }

  @Test func unknownModeAndBadCpusAreBadParams() throws {
    let tree = try FakeHostTree()
    defer { tree.remove() }
    #expect(
      refusal(tree, ["mode": "hotplug", "cpus": "7-3"])
        == "\"cpus\" must be a cpulist like '0-3,8', 'non-entitled' or 'all'; got '7-3'.")
    #expect {
      try apply(engine(tree), ["mode": "sideways"])
    } throws: { error in (error as? AgentError)?.code == .badParams }
  }
}

import Experiments
import LinuxHost
import Results

extension EnvironmentRecord {
  /// This machine (the guests' hypervisor), QEMU's version when `experiment` boots guests,
  /// and the pvbench commit, read now.
  package init(controllerOf experiment: Experiment) {
    let paths = HostPaths(root: "/")
    let usesQEMU = experiment.hosts.contains {
      if case .qemu = $0.transport { return true }
      return false
    }
    self.init(
      pvbenchCommit: PVBenchCommit.current,
      controllerKernel: paths.readTrimmed("/proc/sys/kernel/osrelease") ?? "unknown",
      controllerCPUModel: paths.cpuModel() ?? "unknown",
      qemuVersion: usesQEMU ? Self.qemuVersion() : nil,
      poolModel: usesQEMU ? experiment.poolModel.rawValue : nil, pool: PoolRecord(experiment))
  }

  /// The first line of `qemu-system-x86_64 --version`; nil when QEMU is missing or fails.
  static func qemuVersion() -> String? {
    guard let qemu = Executables.find("qemu-system-x86_64"),
      let result = try? ChildProcess.collect(qemu, ["--version"], timeout: 10),
      result.status == 0
    else { return nil }
    return result.stdout.split(separator: "\n").first.map(String.init)
  }
}

import Foundation

/// What the agent knows about its host: kernel, CPUs, topology, entitlement, interfaces.
package struct HostFacts: Sendable, Hashable {
  /// Cgroup hierarchy the host mounts at /sys/fs/cgroup.
  package enum CgroupVersion: String, Sendable {
    case v1, v2, none
  }

  package var kernelRelease: String
  package var cmdline: String
  package var online: [Int]
  package var present: [Int]
  package var possible: [Int]
  /// SMT sibling groups, one per core, sorted by first CPU.
  package var cores: [[Int]]
  package var threadsPerCore: Int
  /// Entitled capacity in processors from /proc/powerpc/lparcfg, nil when absent.
  package var entitledCapacity: Double?

  /// The cores the platform guarantees, from `entitledCapacity`, rounded up: a partly
  /// entitled core is still paid for, so no mode ever folds it. The one conversion of
  /// lparcfg's capacity into cores; nil when the platform reports none.
  package var entitledCores: Int? { entitledCapacity.map { Int($0.rounded(.up)) } }
  package var cgroupVersion: CgroupVersion
  package var cpusetUsable: Bool
  /// True when /proc/stat carries the steal column.
  package var stealColumn: Bool
  /// Steal ticks summed over the online CPUs' lines at the time of reading (0 when the
  /// hypervisor reports none).
  package var stealTicks: Int64
  /// Mode interfaces found: `hotplug`, `paravirt-sysfs`, `paravirt-powerpc-debugfs`,
  /// `preferred`, `steal-governor-module`, `cpuset`.
  package var interfaces: [String]
  /// Online CPUs that have a `cpuN/online` file (cpu0 often has none).
  package var hotpluggable: [Int] = []

  /// Reads the facts under `paths` (kernel seam for module availability).
  package static func read(paths: HostPaths, kernel: any SysfsWriter) -> HostFacts {
    let cpuDir = HostPaths.cpuDirectory
    let online = paths.readTrimmed("\(cpuDir)/online").flatMap(CPUSet.cpus(parsing:)) ?? []
    let present = paths.readTrimmed("\(cpuDir)/present").flatMap(CPUSet.cpus(parsing:)) ?? online
    let possible = paths.readTrimmed("\(cpuDir)/possible").flatMap(CPUSet.cpus(parsing:)) ?? present
    var groups = Set<[Int]>()
    for cpu in present {
      let siblings = paths.readTrimmed("\(cpuDir)/cpu\(cpu)/topology/thread_siblings_list")
        .flatMap(CPUSet.cpus(parsing:))
      groups.insert(siblings?.isEmpty == false ? siblings! : [cpu])
    }
    let cores = groups.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
    var entitled: Double?
    if let lparcfg = paths.read(HostPaths.lparcfg) {
      for line in lparcfg.split(separator: "\n")
      where line.hasPrefix("partition_entitled_capacity=") {
        entitled = Double(line.split(separator: "=").last ?? "").map { $0 / 100 }
      }
    }
    let cgroupRoot = HostPaths.cgroupRoot
    var version = CgroupVersion.none
    var cpuset = false
    if let controllers = paths.read("\(cgroupRoot)/cgroup.controllers") {
      version = .v2
      cpuset = controllers.split(whereSeparator: \.isWhitespace).contains("cpuset")
    } else if paths.exists("\(cgroupRoot)/cpuset/cpuset.cpus") {
      version = .v1
      cpuset = true
    }
    var stealColumn = false
    var stealTicks: Int64 = 0
    let statPath = paths.resolve("/proc/stat")
    if let text = paths.read("/proc/stat"),
      let stat = try? ProcStatSnapshot(parsing: text, path: statPath)
    {
      stealColumn = stat.stealColumn
      stealTicks = Int64(clamping: stat.cpus.values.reduce(0) { $0 + $1.steal })
    }
    var interfaces: [String] = []
    if online.contains(where: { paths.exists(HostPaths.cpuOnline($0)) }) {
      interfaces.append("hotplug")
    }
    if paths.exists(HostPaths.paravirt) {
      interfaces.append("paravirt-sysfs")
      // Read-only as the series publishes it; writable only with its debug patch 16/17.
      if paths.isWritableAttribute(HostPaths.paravirt) {
        interfaces.append("paravirt-sysfs-writable")
      }
    }
    if paths.exists(HostPaths.vpManualHint) { interfaces.append("paravirt-powerpc-debugfs") }
    if paths.exists(HostPaths.preferred) { interfaces.append("preferred") }
    let release = paths.readTrimmed("/proc/sys/kernel/osrelease") ?? ""
    if kernel.moduleAvailable(StealGovernor.moduleName, kernelRelease: release) {
      interfaces.append("steal-governor-module")
    }
    if cpuset { interfaces.append("cpuset") }
    var facts = HostFacts(
      kernelRelease: release,
      cmdline: paths.readTrimmed("/proc/cmdline") ?? "",
      online: online, present: present, possible: possible, cores: cores,
      threadsPerCore: cores.map(\.count).max() ?? 1, entitledCapacity: entitled,
      cgroupVersion: version, cpusetUsable: cpuset, stealColumn: stealColumn,
      stealTicks: stealTicks, interfaces: interfaces)
    facts.hotpluggable = online.filter { paths.exists(HostPaths.cpuOnline($0)) }
    return facts
  }

  /// Memberwise.
  package init(
    kernelRelease: String, cmdline: String, online: [Int], present: [Int], possible: [Int],
    cores: [[Int]], threadsPerCore: Int, entitledCapacity: Double?, cgroupVersion: CgroupVersion,
    cpusetUsable: Bool, stealColumn: Bool, stealTicks: Int64, interfaces: [String]
  ) {
    self.kernelRelease = kernelRelease
    self.cmdline = cmdline
    self.online = online
    self.present = present
    self.possible = possible
    self.cores = cores
    self.threadsPerCore = threadsPerCore
    self.entitledCapacity = entitledCapacity
    self.cgroupVersion = cgroupVersion
    self.cpusetUsable = cpusetUsable
    self.stealColumn = stealColumn
    self.stealTicks = stealTicks
    self.interfaces = interfaces
  }
}
